import { describe, expect, it } from 'vitest';
import { resolvePlan } from '../../../domain/plan';
import { stageSizingWarnings } from '../../../domain/stage-sizing';

const segments = [
  { key: 'beta', maintenanceWindows: [] },
  { key: 'default', maintenanceWindows: [] },
];

function defaultPlan() {
  const resolved = resolvePlan('default', segments);
  if (!resolved.ok) throw new Error('the default preset must resolve');
  return resolved.plan;
}

describe(stageSizingWarnings.name, () => {
  it('names every stage too small for the fleet with its numbers and the exposure that would do', () => {
    const warnings = stageSizingWarnings(defaultPlan(), 1700, 'production');
    // 1 % of 1700 is 17 devices and 5 % is 85; 20 % (340) is enough, and beta is exempt.
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/stage 1% exposes 1 %: about 17 of the 1700 devices active on production/);
    expect(warnings[0]).toMatch(/start at 5\.89 % or more \(exposureBps ≥ 589\)/);
    expect(warnings[1]).toMatch(/stage 5% exposes 5 %: about 85 of the 1700/);
  });

  it('has nothing to say when every stage reaches enough devices', () => {
    expect(stageSizingWarnings(defaultPlan(), 10_000, 'production')).toEqual([]);
  });

  it('says a release meets no fleet at all when no device was seen', () => {
    expect(stageSizingWarnings(defaultPlan(), 0, 'beta-channel')).toEqual([expect.stringMatching(/no device of channel beta-channel was seen in the last 24 h/)]);
  });
});
