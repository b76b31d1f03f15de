import type { Principal } from '../../domain/access';
import { ConflictError } from '../../domain/errors/conflict-error';
import { NotFoundError } from '../../domain/errors/not-found-error';
import { ValidationError } from '../../domain/errors/validation-error';
import type { MaintenanceWindow } from '../../domain/maintenance-window';
import { validateMaintenanceWindow } from '../../domain/maintenance-window';
import { DEFAULT_SEGMENT, type SegmentDefinition, type SegmentSummary } from '../../domain/segment';
import { validateRule } from '../../domain/segment-rule-validation';
import type { Stores, Transactor } from '../../db/create-stores';
import { announceAppChange } from './app-audit';
import type { AppService } from './app-service';
import { forcedDetails, guardPopulation } from './population-guard';

export interface SegmentInput {
  key: string;
  rule: unknown;
  priority?: number | undefined;
  maintenanceWindows?: unknown[] | undefined;
}

/** `force`: an admin changes the segments under an active release anyway (audited with its id). */
export interface ChangeOptions {
  force: boolean;
}

/**
 * Rules, priorities and the set of segments decide which segment a device falls in, so each change
 * moves devices between segments under every active release of the app. Maintenance windows do not:
 * they only say when a segment is exposed, and a workflow keeps the windows it started with.
 */
export interface SegmentService {
  create(appId: string, input: SegmentInput, principal: Principal, options?: ChangeOptions): Promise<SegmentDefinition>;
  update(appId: string, key: string, changes: Omit<Partial<SegmentInput>, 'key'>, principal: Principal, options?: ChangeOptions): Promise<SegmentDefinition>;
  remove(appId: string, key: string, principal: Principal, options?: ChangeOptions): Promise<void>;
  list(appId: string, principal: Principal): Promise<SegmentDefinition[]>;
  /** Every segment a plan may name: the app's own plus the catch-all `default`. */
  summaries(appId: string): Promise<SegmentSummary[]>;
}

function checked(rule: unknown, windows: unknown[] | undefined): { rule?: SegmentDefinition['rule']; windows?: MaintenanceWindow[] } {
  const problems = [];
  let parsedRule: SegmentDefinition['rule'] | undefined;
  if (rule !== undefined) {
    const result = validateRule(rule);
    if (result.ok) parsedRule = result.rule;
    else problems.push(...result.problems);
  }
  if (windows !== undefined) windows.forEach((w, i) => problems.push(...validateMaintenanceWindow(w, `maintenanceWindows[${i}]`)));
  if (problems.length > 0) throw new ValidationError(`invalid segment: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
  return { ...(parsedRule ? { rule: parsedRule } : {}), ...(windows ? { windows: windows as MaintenanceWindow[] } : {}) };
}

const NOT_FORCED: ChangeOptions = { force: false };

export function createSegmentService(stores: Pick<Stores, 'segments'>, apps: AppService, transact: Transactor): SegmentService {

  return {
    async create(appId, input, principal, options = NOT_FORCED) {
      await apps.get(appId, principal);
      if (input.key === DEFAULT_SEGMENT) throw new ValidationError(`"${DEFAULT_SEGMENT}" is the built-in catch-all segment; choose another key`, [{ path: 'key', message: 'reserved' }]);
      const { rule, windows } = checked(input.rule, input.maintenanceWindows ?? []);
      return transact(async (tx) => {
        const forced = guardPopulation(`adding segment ${input.key}`, await tx.releases.listActive(appId), options.force, principal);
        const segment = await tx.segments.insert(appId, {
          key: input.key,
          rule: rule!,
          priority: input.priority ?? (await tx.segments.nextPriority(appId)),
          maintenanceWindows: windows ?? [],
        });
        if (!segment) throw new ConflictError(`app ${appId} has a segment ${input.key} already`, 'segment_exists');
        await announceAppChange(tx, principal, 'segment.create', appId, {
          segment: segment.key,
          rule: segment.rule,
          priority: segment.priority,
          ...forcedDetails(forced),
        });
        return segment;
      });
    },
    async update(appId, key, changes, principal, options = NOT_FORCED) {
      await apps.get(appId, principal);
      const { rule, windows } = checked(changes.rule, changes.maintenanceWindows);
      return transact(async (tx) => {
        const moves = rule !== undefined || changes.priority !== undefined;
        const forced = moves ? guardPopulation(`changing the rule or priority of segment ${key}`, await tx.releases.listActive(appId), options.force, principal) : [];
        const updated = await tx.segments.update(appId, key, {
          ...(rule ? { rule } : {}),
          ...(changes.priority !== undefined ? { priority: changes.priority } : {}),
          ...(windows ? { maintenanceWindows: windows } : {}),
        });
        if (!updated) throw new NotFoundError(`app ${appId} has no segment ${key}`);
        await announceAppChange(tx, principal, 'segment.update', appId, { segment: key, ...changes, ...forcedDetails(forced) });
        return updated;
      });
    },
    async remove(appId, key, principal, options = NOT_FORCED) {
      await apps.get(appId, principal);
      await transact(async (tx) => {
        const active = await tx.releases.listActive(appId);
        // A plan that names the segment could not expose it any more: no force gets past that.
        const naming = active.filter((r) => r.plan.stages.some((s) => s.segments.includes(key)));
        if (naming.length > 0) {
          throw new ConflictError(`segment ${key} is in the plan of release ${naming[0]!.id} (${naming[0]!.status}); finish or abort it first`, 'segment_in_use', {
            releaseIds: naming.map((r) => r.id),
          });
        }
        const forced = guardPopulation(`deleting segment ${key}`, active, options.force, principal);
        if (!(await tx.segments.remove(appId, key))) throw new NotFoundError(`app ${appId} has no segment ${key}`);
        await announceAppChange(tx, principal, 'segment.delete', appId, { segment: key, ...forcedDetails(forced) });
      });
    },
    async list(appId, principal) {
      await apps.get(appId, principal);
      return stores.segments.list(appId);
    },
    async summaries(appId) {
      const defined = await stores.segments.list(appId);
      return [...defined.map((s) => ({ key: s.key, maintenanceWindows: s.maintenanceWindows })), { key: DEFAULT_SEGMENT, maintenanceWindows: [] }];
    },
  };
}
