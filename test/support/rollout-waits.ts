import type { ServingRelease } from '../../domain/serving';
import type { InProcessStack } from '../../scripts/support/in-process-stack';

/**
 * Waits, event-driven, until the API's snapshot serves a state of the release that satisfies the
 * predicate: each round waits for the next published revision, never for wall-clock time.
 */
export async function waitForServed(
  stack: Pick<InProcessStack, 'api'>,
  releaseId: string,
  predicate: (release: ServingRelease) => boolean,
  timeoutMs = 60_000,
): Promise<ServingRelease> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = stack.api.deps.snapshot.release(releaseId);
    if (current && predicate(current)) return current;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`release ${releaseId} never satisfied the condition; last served ${JSON.stringify(current ?? null)}`);
    await stack.api.deps.snapshot.waitForRevision(releaseId, (current?.revision ?? 0) + 1, remaining);
  }
}
