import { BPS_SCALE } from './bucketing';
import { defaultRDetect } from './gates/default-r-detect';
import { COMPARATIVE_METRICS, DEFAULT_GATES, type GateSpec } from './gates/gate-spec';
import type { GateEvaluation, GateEvaluationInput, GateState } from './gates/gate-types';
import { initialGateState } from './gates/initial-gate-state';
import { isWindowOpen, nextWindowOpening, type MaintenanceWindow } from './maintenance-window';
import { mappingsToWithdraw } from './personalization';
import type { Plan, PlanStage } from './plan';
import { isTerminal, type Exposure, type ReleaseStatus } from './release';
import type { GateReport, ReleaseView, RolloutEvent, Transition } from './rollout-view';
import { BETA_SEGMENT, type SegmentSummary } from './segment';

/*
 * The rollout as a pure state machine: every function takes the state and the current time and
 * returns a new state. The workflow only drives it (timers, activities, messages), so the rules
 * of a release are unit-testable without Temporal and the workflow stays small.
 */

export const COMMANDS = ['pause', 'resume', 'rollback', 'promote', 'promoteFull', 'abort'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** The URL segment of each command (`promote-full`), as the admin API and the CLI spell it. */
export const COMMAND_PATHS: ReadonlyMap<string, CommandName> = new Map(COMMANDS.map((name) => [name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), name]));

export const COMMAND_LIMITS = { maxActorLength: 200, maxReasonLength: 1000 } as const;

export interface Command {
  actor: string;
  reason: string;
}

/** Fixed facts of a release, given when its workflow starts. */
export interface RolloutContext {
  releaseId: string;
  appId: string;
  channel: string;
  version: string;
  plan: Plan;
  /** Every segment of the app at the start, with its maintenance windows. */
  segments: SegmentSummary[];
  /** Size of the release's telemetry counting windows. */
  windowMs: number;
  /**
   * A personalized release's segments with their own bundle: a failing gate in one of them withdraws
   * that bundle only. Absent in releases started before personalization (and in plain ones).
   */
  segmentBundles?: Record<string, string>;
}

/** The whole mutable state of a release: plain JSON, carried through continue-as-new. */
export interface RolloutState {
  status: ReleaseStatus;
  stageIndex: number;
  phase: 'entering' | 'baking';
  exposure: Exposure;
  /** Segments whose own bundle was withdrawn: held at zero exposure for the rest of the release. */
  withdrawnSegments?: string[];
  /** Bumped by every change devices must see; publishing makes publishedRevision catch up. */
  revision: number;
  publishedRevision: number;
  /** Bake time of the current stage, paused time excluded. */
  soakedMs: number;
  /** Effective maximum soak of the current stage; a resume after an inconclusive pause extends it. */
  soakLimitMs: number;
  /** When soak was last accounted; null while not baking. */
  lastTickAt: number | null;
  /**
   * When the current bake (re)started, its exposure published; absent in states carried over from
   * runs before it existed.
   */
  bakeStartedAt?: number;
  fullPromotion: boolean;
  reason: string | null;
  gate: GateState;
  /** End of the last counting window the gate has seen; the next window starts here. */
  gateCursor: number;
  lastGateReport: GateReport | null;
  history: Transition[];
  /** Highest transition seq handed to the audit log and webhooks. */
  deliveredSeq: number;
  nextSeq: number;
  /** Commands accepted so far, and how many of them the workflow has fully acted on (published). */
  commandSeq: number;
  settledSeq: number;
}

export const HISTORY_LIMIT = 200;
const SYSTEM_ACTOR = 'rampart';

export function initialRolloutState(now: number): RolloutState {
  return {
    status: 'running',
    stageIndex: 0,
    phase: 'entering',
    exposure: {},
    revision: 0,
    publishedRevision: 0,
    soakedMs: 0,
    soakLimitMs: 0,
    lastTickAt: null,
    fullPromotion: false,
    reason: null,
    gate: initialGateState(),
    gateCursor: now,
    lastGateReport: null,
    history: [],
    deliveredSeq: 0,
    nextSeq: 1,
    commandSeq: 0,
    settledSeq: 0,
  };
}

/** The stage being entered or baked; a full promotion replaces what is left of the plan by one last stage. */
export function currentStage(state: RolloutState, ctx: RolloutContext): PlanStage {
  if (state.fullPromotion) {
    const last = ctx.plan.stages[ctx.plan.stages.length - 1]!;
    return {
      name: 'promote-full',
      segments: allPlanSegments(ctx.plan),
      exposureBps: BPS_SCALE,
      minSoakMs: 0,
      maxSoakMs: 0,
      checkIntervalMs: last.checkIntervalMs,
      gates: [],
    };
  }
  return ctx.plan.stages[Math.min(state.stageIndex, ctx.plan.stages.length - 1)]!;
}

export function allPlanSegments(plan: Plan): string[] {
  return [...new Set(plan.stages.flatMap((s) => s.segments))];
}

function windowsOf(ctx: RolloutContext, segment: string): MaintenanceWindow[] {
  return ctx.segments.find((s) => s.key === segment)?.maintenanceWindows ?? [];
}

export function record(state: RolloutState, now: number, event: RolloutEvent, to: ReleaseStatus, actor: string, reason: string): RolloutState {
  const transition: Transition = {
    seq: state.nextSeq,
    at: now,
    event,
    from: state.status,
    to,
    stageIndex: state.stageIndex,
    exposure: state.exposure,
    actor,
    reason,
  };
  return {
    ...state,
    status: to,
    reason,
    nextSeq: state.nextSeq + 1,
    history: [...state.history, transition].slice(-HISTORY_LIMIT),
  };
}

/** Segments of the stage whose exposure is still below the stage's (they wait for their window). */
export function waitingSegments(state: RolloutState, ctx: RolloutContext): string[] {
  if (state.phase !== 'entering' || isTerminal(state.status)) return [];
  const stage = currentStage(state, ctx);
  return stage.segments.filter((s) => (state.exposure[s] ?? 0) < stage.exposureBps && !isWithdrawnSegment(state, s));
}

const isWithdrawnSegment = (state: RolloutState, segment: string) => state.withdrawnSegments?.includes(segment) ?? false;

export interface EnterResult {
  state: RolloutState;
  /** When the next maintenance window of a waiting segment opens; null once the stage is fully exposed. */
  waitUntil: number | null;
}

/**
 * Applies the stage's exposure to every segment whose maintenance window is open (or that has
 * none). Once all are exposed the bake starts; exposure never shrinks (max with what was published).
 */
export function enterStage(state: RolloutState, ctx: RolloutContext, now: number): EnterResult {
  if (state.status !== 'running' || state.phase !== 'entering') return { state, waitUntil: null };
  const stage = currentStage(state, ctx);
  const exposure = { ...state.exposure };
  let changed = false;
  const waiting: string[] = [];
  for (const segment of stage.segments.filter((s) => !isWithdrawnSegment(state, s))) {
    if ((exposure[segment] ?? 0) >= stage.exposureBps) continue;
    if (isWindowOpen(windowsOf(ctx, segment), now)) {
      exposure[segment] = stage.exposureBps;
      changed = true;
    } else {
      waiting.push(segment);
    }
  }
  let next: RolloutState = changed ? { ...state, exposure, revision: state.revision + 1 } : state;
  if (waiting.length > 0) {
    const openings = waiting.map((s) => nextWindowOpening(windowsOf(ctx, s), now)).filter((t): t is number => t !== null);
    const alreadyAnnounced = state.history.at(-1)?.event === 'waiting_for_window' && state.history.at(-1)?.stageIndex === state.stageIndex;
    if (!alreadyAnnounced) {
      next = record(next, now, 'waiting_for_window', 'running', SYSTEM_ACTOR, `stage ${stage.name} waits for the maintenance window of ${waiting.join(', ')}`);
    }
    return { state: next, waitUntil: openings.length > 0 ? Math.min(...openings) : null };
  }
  if (state.fullPromotion) return { state: complete(next, now, SYSTEM_ACTOR, 'full promotion reached every segment'), waitUntil: null };
  // The soak clock starts (lastTickAt) only once the workflow has published this exposure.
  next = { ...next, phase: 'baking', soakedMs: 0, soakLimitMs: stage.maxSoakMs, lastTickAt: null };
  next = record(next, now, 'stage_started', 'running', SYSTEM_ACTOR, `stage ${stage.name}: ${stage.segments.join(', ')} at ${stage.exposureBps} bps`);
  return { state: next, waitUntil: null };
}

/** Adds the bake time since the last accounting (only while running and baking). */
export function accrueSoak(state: RolloutState, now: number): RolloutState {
  if (state.status !== 'running' || state.phase !== 'baking' || state.lastTickAt === null) return state;
  return { ...state, soakedMs: state.soakedMs + Math.max(0, now - state.lastTickAt), lastTickAt: now };
}

/**
 * The soak clock runs from the first check of a bake, once the exposure is published; that moment
 * also tells the gate which counting windows may hold devices sliced by the previous exposure.
 */
export function startSoak(state: RolloutState, now: number): RolloutState {
  return state.lastTickAt === null ? { ...state, lastTickAt: now, bakeStartedAt: now } : state;
}

function withdraw(state: RolloutState): Exposure {
  return Object.fromEntries(Object.keys(state.exposure).map((segment) => [segment, 0]));
}

export function complete(state: RolloutState, now: number, actor: string, reason: string): RolloutState {
  const exposure = { ...state.exposure };
  for (const segment of Object.keys(exposure)) exposure[segment] = isWithdrawnSegment(state, segment) ? 0 : BPS_SCALE;
  return record({ ...state, exposure, revision: state.revision + 1, lastTickAt: null }, now, 'completed', 'completed', actor, reason);
}

function advance(state: RolloutState, ctx: RolloutContext, now: number, actor: string, reason: string, event: RolloutEvent | null): RolloutState {
  let next = accrueSoak(state, now);
  if (event) next = record(next, now, event, 'running', actor, reason);
  if (next.stageIndex + 1 >= ctx.plan.stages.length) return complete(next, now, actor, reason);
  return { ...next, status: 'running', stageIndex: next.stageIndex + 1, phase: 'entering', soakedMs: 0, lastTickAt: null };
}

/** Stops the soak clock where it stands; a human (or a resume) decides what happens next. */
export function pause(state: RolloutState, now: number, actor: string, reason: string): RolloutState {
  const soaked = accrueSoak(state, now);
  return record({ ...soaked, lastTickAt: null, revision: soaked.revision + 1 }, now, 'paused', 'paused', actor, reason);
}

export function terminate(state: RolloutState, now: number, event: 'rolled_back' | 'aborted', actor: string, reason: string): RolloutState {
  const next = accrueSoak(state, now);
  return record({ ...next, exposure: withdraw(next), revision: next.revision + 1, lastTickAt: null }, now, event, event, actor, reason);
}

/** Why a command cannot be applied now, or null when it can. Pure and synchronous (update validators). */
export function refusalOf(state: RolloutState, ctx: RolloutContext, name: CommandName, command: unknown): string | null {
  return commandShapeProblem(command) ?? stateRefusal(state, ctx, name);
}

export function commandShapeProblem(command: unknown): string | null {
  if (typeof command !== 'object' || command === null) return 'send {"actor": "...", "reason": "..."}';
  const { actor, reason } = command as Partial<Command>;
  if (!isBoundedText(actor, COMMAND_LIMITS.maxActorLength)) return `actor must be a non-empty string of at most ${COMMAND_LIMITS.maxActorLength} characters`;
  if (!isBoundedText(reason, COMMAND_LIMITS.maxReasonLength)) return `reason must be a non-empty string of at most ${COMMAND_LIMITS.maxReasonLength} characters`;
  return null;
}

function isBoundedText(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.trim().length > 0 && value.length <= maxLength;
}

function stateRefusal(state: RolloutState, ctx: RolloutContext, name: CommandName): string | null {
  if (isTerminal(state.status)) return `the release is ${state.status}; nothing can change it any more (start a new release)`;
  switch (name) {
    case 'pause':
      return state.status === 'paused' ? 'the release is already paused' : null;
    case 'resume':
      return state.status === 'paused' ? null : `only a paused release can be resumed; it is ${state.status}`;
    case 'promote': {
      if (state.fullPromotion) return 'a full promotion is already under way';
      const waiting = waitingSegments(state, ctx);
      return waiting.length > 0
        ? `stage ${currentStage(state, ctx).name} is waiting for the maintenance window of ${waiting.join(', ')}; promote once it is exposed`
        : null;
    }
    case 'promoteFull':
      return state.fullPromotion ? 'a full promotion is already under way' : null;
    case 'rollback':
    case 'abort':
      return null;
  }
}

/** How a command reached the workflow: an Update (the API) or a Signal (anyone with Temporal access). */
export type CommandOrigin = 'update' | 'signal';

/** Applies a command that `refusalOf` accepted; the transitions it causes say whether a Signal sent it. */
export function applyCommand(state: RolloutState, ctx: RolloutContext, name: CommandName, command: Command, now: number, origin: CommandOrigin = 'update'): RolloutState {
  const next = applyAccepted(state, ctx, name, command, now);
  if (origin === 'update') return next;
  const history = next.history.map((t): Transition => (t.seq >= state.nextSeq ? { ...t, claimedBy: 'temporal-signal' } : t));
  return { ...next, history };
}

function applyAccepted(state: RolloutState, ctx: RolloutContext, name: CommandName, command: Command, now: number): RolloutState {
  const counted = { ...state, commandSeq: state.commandSeq + 1 };
  const { actor, reason } = command;
  switch (name) {
    case 'pause':
      return pause(counted, now, actor, reason);
    case 'resume': {
      const limit = Math.max(counted.soakLimitMs, counted.soakedMs + currentStage(counted, ctx).maxSoakMs);
      const resumed = { ...counted, revision: counted.revision + 1, soakLimitMs: limit, lastTickAt: null };
      return record(resumed, now, 'resumed', 'running', actor, reason);
    }
    // Promotions expose the next stage at once (windows permitting), so the caller's answer shows it.
    case 'promote':
      return enterStage(advance({ ...counted, revision: counted.revision + 1 }, ctx, now, actor, reason, 'promoted'), ctx, now).state;
    case 'promoteFull': {
      // The soak clock restarts for the full stage, so the time soaked so far is not accrued.
      const promoted = record({ ...counted, revision: counted.revision + 1 }, now, 'promoted_full', 'running', actor, reason);
      return enterStage({ ...promoted, fullPromotion: true, phase: 'entering', soakedMs: 0, lastTickAt: null }, ctx, now).state;
    }
    case 'rollback':
      return terminate(counted, now, 'rolled_back', actor, reason);
    case 'abort':
      return terminate(counted, now, 'aborted', actor, reason);
  }
}

export function gatesOf(stage: PlanStage): GateSpec[] {
  return stage.gates ?? [...DEFAULT_GATES];
}

function stageRDetect(stage: PlanStage): number {
  const onlyBeta = stage.segments.length > 0 && stage.segments.every((s) => s === BETA_SEGMENT);
  return defaultRDetect(stage.exposureBps, onlyBeta);
}

/** The gate's inputs that depend only on the plan: Bonferroni divisor and every acceptance ratio used. */
export function planGateParameters(plan: Plan): Pick<GateEvaluationInput, 'comparisons' | 'rDetectValues'> {
  const metrics = new Set<string>();
  const rDetects = new Set<number>();
  for (const stage of plan.stages) {
    rDetects.add(stageRDetect(stage));
    for (const gate of gatesOf(stage)) {
      if (gate.kind === 'ratio') {
        metrics.add(gate.metric);
        if (gate.rDetect !== undefined) rDetects.add(gate.rDetect);
      }
    }
  }
  // Only segments that ever have a control cohort (exposed below 100 % at some stage) can be compared.
  const comparable = allPlanSegments(plan).filter((segment) => plan.stages.some((s) => s.segments.includes(segment) && s.exposureBps < BPS_SCALE));
  const comparisons = Math.max(1, Math.min(metrics.size, COMPARATIVE_METRICS.length) * comparable.length);
  return { comparisons, rDetectValues: [...rDetects].sort((a, b) => a - b) };
}

/** What the gate needs for one evaluation of the current stage; `window` is filled in by the activity. */
export function gateRequest(state: RolloutState, ctx: RolloutContext): Omit<GateEvaluationInput, 'window'> {
  const stage = currentStage(state, ctx);
  const exposed = Object.fromEntries(Object.entries(state.exposure).filter(([, bps]) => bps > 0));
  return {
    state: state.gate,
    gates: gatesOf(stage),
    settings: ctx.plan.gateSettings,
    stage: {
      exposureBps: exposed,
      advancingSegments: stage.segments,
      rDetect: stageRDetect(stage),
      soakedMs: state.soakedMs,
      minSoakMs: stage.minSoakMs,
      maxSoakMs: state.soakLimitMs,
      bakeStartedAt: state.bakeStartedAt ?? null,
    },
    ...planGateParameters(ctx.plan),
  };
}

/**
 * Folds a gate evaluation into the state and acts on its verdict, unless a command changed the
 * release while the evaluation ran (then only the evidence is kept).
 */
export function applyGateEvaluation(
  state: RolloutState,
  ctx: RolloutContext,
  evaluated: { evaluation: GateEvaluation; windowEnd: number; stageIndex: number },
  now: number,
): RolloutState {
  const { evaluation } = evaluated;
  const report: GateReport = { at: now, stageIndex: evaluated.stageIndex, verdict: evaluation.verdict, evidence: evaluation.evidence };
  const next: RolloutState = { ...state, gate: evaluation.state, gateCursor: Math.max(state.gateCursor, evaluated.windowEnd), lastGateReport: report };
  if (next.status !== 'running' || next.phase !== 'baking' || next.stageIndex !== evaluated.stageIndex) return next;
  const reasons = evaluation.evidence.findings.filter((f) => f.verdict === evaluation.verdict && !f.dryRun).map((f) => f.message);
  const reason = reasons.join('; ') || `gate verdict ${evaluation.verdict}`;
  switch (evaluation.verdict) {
    case 'rollback': {
      const exposed = Object.keys(next.exposure).filter((s) => (next.exposure[s] ?? 0) > 0);
      const confined = mappingsToWithdraw(evaluation.evidence.findings, ctx.segmentBundles, exposed);
      if (confined) return withdrawMappings(next, now, confined, reason);
      return terminate(next, now, 'rolled_back', `${SYSTEM_ACTOR}:gate`, reason);
    }
    case 'pause':
      return pause(next, now, `${SYSTEM_ACTOR}:gate`, reason);
    case 'advance':
      return advance(next, ctx, now, `${SYSTEM_ACTOR}:gate`, reason, null);
    case 'continue':
      return next;
  }
}

/** Takes segments' own bundles away: their exposure goes to zero for good, the other segments go on. */
function withdrawMappings(state: RolloutState, now: number, segments: readonly string[], reason: string): RolloutState {
  const exposure = { ...state.exposure };
  for (const segment of segments) exposure[segment] = 0;
  const withdrawnSegments = [...new Set([...(state.withdrawnSegments ?? []), ...segments])].sort();
  const next = { ...state, exposure, withdrawnSegments, revision: state.revision + 1 };
  return record(next, now, 'mapping_withdrawn', 'running', `${SYSTEM_ACTOR}:gate`, `own bundle of ${segments.join(', ')} withdrawn: ${reason}`);
}

/** Announces the start of the release (the first transition). */
export function start(state: RolloutState, ctx: RolloutContext, actor: string, now: number): RolloutState {
  return record(state, now, 'started', 'running', actor, `release of ${ctx.version} on ${ctx.channel} started`);
}

export function view(state: RolloutState, ctx: RolloutContext): ReleaseView {
  const stage = ctx.plan.stages[state.stageIndex];
  return {
    releaseId: ctx.releaseId,
    appId: ctx.appId,
    channel: ctx.channel,
    version: ctx.version,
    status: state.status,
    stageIndex: state.stageIndex,
    stageName: state.fullPromotion ? 'promote-full' : (stage?.name ?? null),
    phase: state.phase,
    waitingSegments: waitingSegments(state, ctx),
    exposure: state.exposure,
    ...(state.withdrawnSegments ? { withdrawnSegments: state.withdrawnSegments } : {}),
    soakedMs: state.soakedMs,
    revision: state.revision,
    publishedRevision: state.publishedRevision,
    reason: state.reason,
    plan: ctx.plan,
    gates: state.lastGateReport,
    history: state.history,
  };
}
