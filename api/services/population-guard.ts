import { hasPermission, type Principal } from '../../domain/access';
import { ConflictError } from '../../domain/errors/conflict-error';
import { ForbiddenError } from '../../domain/errors/forbidden-error';
import type { Release } from '../../domain/release';

/**
 * A change to who falls in a segment or channel while a release is active changes that release's
 * population mid-flight: its cohorts and gate evidence no longer describe the same devices. It is
 * refused unless an admin forces it; returns the releases forced past, for the audit entry.
 */
export function guardPopulation(change: string, active: Release[], force: boolean, principal: Principal): string[] {
  if (force && !hasPermission(principal, 'force_changes')) {
    throw new ForbiddenError(`an API key with role "${principal.role}" may not force a change past an active release; only admin may`);
  }
  if (active.length === 0) return [];
  if (force) return active.map((r) => r.id);
  const named = active.map((r) => `release ${r.id} (${r.version}, ${r.status} on ${r.channel})`).join(', ');
  throw new ConflictError(
    `${change} would change which devices ${named} reaches; wait until it ends or abort it, or (admin) send "force": true`,
    'release_population_change',
    { releaseIds: active.map((r) => r.id) },
  );
}

/** The audit details of a forced change name the releases it was forced past. */
export function forcedDetails(releaseIds: string[]): { forcedPastReleases?: string[] } {
  return releaseIds.length > 0 ? { forcedPastReleases: releaseIds } : {};
}
