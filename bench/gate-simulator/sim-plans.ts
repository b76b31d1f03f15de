import type { GateSpec } from '../../domain/gates/gate-spec';
import { type Plan, type PlanInput, resolvePlan } from '../../domain/plan';
import type { SegmentSummary } from '../../domain/segment';

/**
 * The gates a replicate is judged by. rampart: the stage gates as the plan gives them (DEFAULT_GATES
 * when a stage names none). naive: every stage's gates replaced by the Flagger-like threshold gate,
 * so stages advance on soak time alone, as such a tool would. naive-powered: the threshold gate
 * decides rollbacks, but stages advance only through Rampart's acceptance test, as gates.md §5.1
 * ran every gate (same advancement for all, so only the rollback rule differs).
 */
export const GATE_VARIANTS = ['rampart', 'naive', 'naive-powered'] as const;
export type GateVariant = (typeof GATE_VARIANTS)[number];

/** Flagger-like baseline of gates.md §5.1: window crash rate above 0.3 % in 3 checks (cumulative) rolls back. */
const NAIVE_GATE: GateSpec = { kind: 'threshold', metric: 'crash', maxRate: 0.003, failureLimit: 3 };

/**
 * The crash ratio gate reduced to its acceptance test: a rollback needs more canary events than any
 * release has, so its e-value can only hold the stage (as "keep baking"), never roll back.
 */
const ACCEPTANCE_ONLY: GateSpec = { kind: 'ratio', metric: 'crash', minEvents: Number.MAX_SAFE_INTEGER };

const NAIVE_STAGE_GATES: Record<Exclude<GateVariant, 'rampart'>, GateSpec[]> = {
  naive: [NAIVE_GATE],
  'naive-powered': [NAIVE_GATE, ACCEPTANCE_ONLY],
};

/**
 * Resolves a written plan exactly as a release would (timeScale 1), optionally overriding the
 * release's α, and swaps every stage's gates for a naive baseline when asked.
 */
export function simulatedPlan(input: PlanInput, segments: SegmentSummary[], variant: GateVariant, alpha?: number): Plan {
  const written = alpha === undefined ? input : { ...input, gateSettings: { ...input.gateSettings, alpha } };
  const resolved = resolvePlan(written, segments, 1);
  if (!resolved.ok) throw new Error(`plan does not resolve: ${describe(resolved.problems)}`);
  const { plan } = resolved;
  if (variant === 'rampart') return plan;
  return { ...plan, stages: plan.stages.map((stage) => ({ ...stage, gates: NAIVE_STAGE_GATES[variant] })) };
}

function describe(problems: ReadonlyArray<{ path: string; message: string }>): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('; ');
}
