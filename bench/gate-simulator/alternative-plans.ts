import { BPS_SCALE } from '../../domain/bucketing';
import { DEFAULT_GATES, type GateSpec } from '../../domain/gates/gate-spec';
import { type PlanInput, type PlanStageInput, isPlanPreset, presetPlan } from '../../domain/plan';
import { BETA_SEGMENT, type SegmentSummary } from '../../domain/segment';

const HOUR_MS = 3_600_000;

/**
 * What-if plans for BENCHMARKS.md: each changes one thing about the default preset, so the
 * simulator can put numbers on a proposed change to domain/plan.ts before it is made.
 */
const ALTERNATIVES: Record<string, (segments: SegmentSummary[]) => PlanInput> = {
  'no-holdback': (segments) => withoutHoldback(presetPlan('default', segments)),
  'first-0.2': (segments) => withFirstStage(presetPlan('default', segments), 20),
  'beta-control': (segments) => betaWithControl(presetPlan('default', segments)),
};

export const PLAN_CHOICES = ['default', 'apple-phased', ...Object.keys(ALTERNATIVES)];

export function planInput(name: string, segments: SegmentSummary[]): PlanInput {
  if (isPlanPreset(name)) return presetPlan(name, segments);
  const alternative = ALTERNATIVES[name];
  if (alternative === undefined) throw new Error(`unknown plan "${name}"; use one of ${PLAN_CHOICES.join(', ')}`);
  return alternative(segments);
}

const isGeneral = (stage: PlanStageInput) => !(stage.segments ?? []).includes(BETA_SEGMENT);

/** The ramp as it was before the 95 % holdback bake: the last day's bake at 100 %, without a control. */
function withoutHoldback(plan: PlanInput): PlanInput {
  const holdback = plan.stages.findIndex((s) => s.exposureBps > BPS_SCALE / 2 && s.exposureBps < BPS_SCALE && isGeneral(s));
  const full = plan.stages[holdback + 1];
  if (holdback < 0 || !full) return plan;
  const bake: PlanStageInput = { ...full, minSoakMs: plan.stages[holdback]!.minSoakMs };
  return { ...plan, stages: [...plan.stages.slice(0, holdback), bake, ...plan.stages.slice(holdback + 2)] };
}

/** Puts a smaller stage (same soak as the first general stage) in front of the general ramp. */
function withFirstStage(plan: PlanInput, exposureBps: number): PlanInput {
  const first = plan.stages.findIndex(isGeneral);
  if (first < 0) return plan;
  const extra: PlanStageInput = { ...plan.stages[first]!, name: `${exposureBps / 100}%`, exposureBps };
  return { ...plan, stages: [...plan.stages.slice(0, first), extra, ...plan.stages.slice(first)] };
}

/**
 * Beta at 50 % instead of 100 %, so it has a randomized control and the ratio test can act there; it
 * only rules out crash loops (rDetect 10), then beta goes to 100 % before the general ramp (kept at
 * 50 %, every later stage would demand its own rDetect from the small beta segment too).
 */
function betaWithControl(plan: PlanInput): PlanInput {
  if (plan.stages.every(isGeneral)) return plan;
  const gates: GateSpec[] = DEFAULT_GATES.map((g) => (g.kind === 'ratio' ? { ...g, rDetect: 10 } : g));
  const beta: PlanStageInput[] = [
    { name: 'beta 50%', segments: [BETA_SEGMENT], exposureBps: BPS_SCALE / 2, minSoakMs: 4 * HOUR_MS, gates },
    { name: 'beta', segments: [BETA_SEGMENT], exposureBps: BPS_SCALE, minSoakMs: 0 },
  ];
  return { ...plan, stages: [...beta, ...plan.stages.filter(isGeneral)] };
}
