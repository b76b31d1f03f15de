import type { Role } from './access';
import { BPS_SCALE } from './bucketing';
import type { Plan } from './plan';
import { BETA_SEGMENT } from './segment';

/**
 * What a written plan can do that weakens the guard a staged, gated rollout gives: each one is a
 * policy decision per app, not something the `start_releases` permission implies.
 */
export const POLICY_ACTIONS = ['disable_gates', 'dry_run', 'skip_stages'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** Per app: which roles may start a plan that does each policy action. */
export type AppPolicy = Record<PolicyAction, Role[]>;

export const DEFAULT_APP_POLICY: AppPolicy = {
  disable_gates: ['admin', 'oncall'],
  dry_run: ['admin', 'oncall'],
  skip_stages: ['admin', 'oncall'],
};

export const POLICY_ACTION_PHRASES: Record<PolicyAction, string> = {
  disable_gates: 'disable gates',
  dry_run: 'dry-run gates',
  skip_stages: 'skip stages',
};

/** One place in a plan that does a policy action, said so a release engineer can find and fix it. */
export interface PolicyFinding {
  action: PolicyAction;
  path: string;
  message: string;
}

// A stage whose gates all only record verdicts guards nothing, exactly like `gates: []`.
function disabledGates(plan: Plan): PolicyFinding[] {
  return plan.stages.flatMap((stage, i) => {
    if (stage.gates === undefined) return [];
    const message = stage.gates.length === 0 ? 'has no gates' : 'has only dry-run gates';
    if (stage.gates.every((g) => g.dryRun === true)) return [{ action: 'disable_gates', path: `stages[${i}].gates`, message: `stage "${stage.name}" ${message}` }];
    return [];
  });
}

function dryRun(plan: Plan): PolicyFinding[] {
  return plan.gateSettings.dryRun ? [{ action: 'dry_run', path: 'gateSettings.dryRun', message: 'the gates record verdicts but never act' }] : [];
}

/**
 * A segment whose first exposure is already 100 % gets no staged exposure at all. Beta is exempt:
 * it is the testers' segment and goes to 100 % first by design.
 */
function skippedStages(plan: Plan): PolicyFinding[] {
  const seen = new Set<string>();
  const findings: PolicyFinding[] = [];
  plan.stages.forEach((stage, i) => {
    for (const segment of stage.segments) {
      if (seen.has(segment)) continue;
      seen.add(segment);
      if (segment !== BETA_SEGMENT && stage.exposureBps >= BPS_SCALE) {
        findings.push({ action: 'skip_stages', path: `stages[${i}].exposureBps`, message: `segment "${segment}" goes to 100 % in its first stage` });
      }
    }
  });
  return findings;
}

/** Everything in a resolved plan that a policy governs. */
export function policyFindings(plan: Plan): PolicyFinding[] {
  return [...disabledGates(plan), ...dryRun(plan), ...skippedStages(plan)];
}

export interface PolicyRefusal {
  action: PolicyAction;
  allowedRoles: Role[];
  findings: PolicyFinding[];
}

/** The first policy action of the plan the role may not do, or null when it may do them all. */
export function policyRefusal(policy: AppPolicy, role: Role, findings: PolicyFinding[]): PolicyRefusal | null {
  for (const action of POLICY_ACTIONS) {
    const mine = findings.filter((f) => f.action === action);
    if (mine.length > 0 && !policy[action].includes(role)) return { action, allowedRoles: policy[action], findings: mine };
  }
  return null;
}

export function describeRefusal(appId: string, role: Role, refusal: PolicyRefusal): string {
  const who = refusal.allowedRoles.length > 0 ? `only ${refusal.allowedRoles.join(', ')} may` : 'no role may';
  const where = refusal.findings.map((f) => `${f.path}: ${f.message}`).join('; ');
  return (
    `policy "${refusal.action}" of app ${appId}: ${who} start a plan that does ${POLICY_ACTION_PHRASES[refusal.action]}, ` +
    `and an API key with role "${role}" may not (${where}); use a preset plan, or ask one of them`
  );
}
