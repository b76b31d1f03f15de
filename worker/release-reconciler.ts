import type { Registry } from 'prom-client';
import type { ReleaseWithdrawal } from '../db/release-withdrawal';
import type { ReleaseStore } from '../db/stores/release-store';
import type { Release } from '../domain/release';
import type { Logger } from '../platform/logger';
import type { WorkflowRunState } from '../platform/workflow-status';
import { createBackgroundLoop, type BackgroundLoop } from '../platform/background-loop';

/** The actor of the withdrawals the reconciler makes, in the audit log and the transition. */
export const RECONCILER_ACTOR = 'reconciler';

export interface ReconcilerSettings {
  intervalMs: number;
  /**
   * How long a release row may exist without a workflow: the API writes the row, then starts the
   * workflow, so a missing workflow is only a failed start once this has passed.
   */
  startGraceMs: number;
  /** Releases checked per pass (each costs one call to Temporal). */
  batch: number;
}

export interface ReleaseReconciler extends BackgroundLoop {
  /** The releases this pass withdrew. */
  runOnce(now?: number): Promise<string[]>;
}

export interface ReleaseReconcilerDeps {
  releases: Pick<ReleaseStore, 'listActiveEverywhere'>;
  workflowState: (workflowId: string) => Promise<WorkflowRunState>;
  withdrawal: ReleaseWithdrawal;
  logger: Logger;
  /** Counts failed passes. */
  registry: Registry;
  settings: ReconcilerSettings;
  onWithdrawn?: (cause: string) => void;
}

/** Why a release in flight can no longer move on its own, or null while its workflow may still publish. */
export function stuckCause(release: Release, workflow: WorkflowRunState, now: number, startGraceMs: number): string | null {
  if (workflow.kind === 'closed') return `its workflow ${release.workflowId} closed as ${workflow.status} without finishing the release`;
  if (workflow.kind === 'missing' && now - Date.parse(release.createdAt) >= startGraceMs) {
    return `its workflow ${release.workflowId} never started (the start failed after the release was written)`;
  }
  return null;
}

const causeLabel = (workflow: WorkflowRunState) => (workflow.kind === 'closed' ? workflow.status.toLowerCase() : 'never_started');

/**
 * Withdraws releases that nothing watches any more: still pending or running in PostgreSQL, but their
 * workflow was terminated, failed, timed out or never started. Left alone, such a release keeps its
 * channel busy and devices on its last exposure for ever. Every worker runs it; the publish guard
 * and the transition's idempotency key make concurrent passes harmless.
 */
export function createReleaseReconciler(deps: ReleaseReconcilerDeps): ReleaseReconciler {
  const { settings, logger } = deps;

  const reconcile = async (release: Release, now: number): Promise<boolean> => {
    const workflow = await deps.workflowState(release.workflowId);
    const cause = stuckCause(release, workflow, now, settings.startGraceMs);
    if (cause === null) return false;
    const withdrawn = await deps.withdrawal.withdraw({
      release,
      actor: RECONCILER_ACTOR,
      reason: `withdrawn by the reconciler: ${cause}`,
      details: { withdrawnBy: RECONCILER_ACTOR, workflowStatus: workflow.kind === 'closed' ? workflow.status : null },
    });
    if (!withdrawn) return false;
    deps.onWithdrawn?.(causeLabel(workflow));
    logger.warn({ releaseId: release.id, appId: release.appId, channel: release.channel, cause }, `release ${release.id} withdrawn: ${cause}`);
    return true;
  };

  const runOnce = async (now = Date.now()): Promise<string[]> => {
    const withdrawn: string[] = [];
    for (const release of await deps.releases.listActiveEverywhere(settings.batch)) {
      if (await reconcile(release, now)) withdrawn.push(release.id);
    }
    return withdrawn;
  };

  const loop = createBackgroundLoop({
    name: 'release_reconciler',
    intervalMs: settings.intervalMs,
    logger,
    registry: deps.registry,
    iterate: async () => void (await runOnce()),
  });
  return { runOnce, ...loop };
}
