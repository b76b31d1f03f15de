import { describe, expect, it } from 'vitest';
import { evaluateGates } from '../../../../domain/gates/evaluate-gates';
import type { CohortCounts, GateEvaluationInput, GateState } from '../../../../domain/gates/gate-types';
import { initialGateState } from '../../../../domain/gates/initial-gate-state';
import { binomial } from '../../../../bench/gate-simulator/binomial';
import { createRng } from '../../../../scripts/support/prng';

const REPLICATES = 400;
const WINDOWS = 100;
const BASE_RATE = 0.002;
const ALPHA = 0.05;

const cohort = (devices: number, crash: number): CohortCounts => ({ devices, events: { crash, js_error: 0, boot_failed: 0, install_failed: 0 } });

/** Share of replicates that roll back within WINDOWS windows when the canary's rate is ratio × the control's. */
function rollbackRate(ratio: number, seed: number): number {
  const rng = createRng([seed]);
  let rollbacks = 0;
  for (let replicate = 0; replicate < REPLICATES; replicate++) {
    let state: GateState = initialGateState();
    for (let w = 0; w < WINDOWS; w++) {
      // Cohort sizes wander around 1000 so the conditional share π changes from window to window.
      const canaryDevices = 950 + Math.floor(rng.next() * 101);
      const controlDevices = 950 + Math.floor(rng.next() * 101);
      const input: GateEvaluationInput = {
        state,
        window: {
          start: w,
          end: w + 1,
          segments: {
            ga: {
              canary: cohort(canaryDevices, binomial(rng, canaryDevices, ratio * BASE_RATE)),
              control: cohort(controlDevices, binomial(rng, controlDevices, BASE_RATE)),
              canarySliceDevices: canaryDevices,
              controlSliceDevices: controlDevices,
            },
          },
        },
        gates: [{ kind: 'ratio', metric: 'crash' }],
        settings: { alpha: ALPHA, reportingLagMs: 0, dryRun: false },
        // Soak bounds out of reach: the simulation watches the rollback test alone for the whole horizon.
        stage: { exposureBps: { ga: 500 }, advancingSegments: ['ga'], rDetect: 2, soakedMs: 0, minSoakMs: Number.MAX_SAFE_INTEGER, bakeStartedAt: null,
          maxSoakMs: Number.MAX_SAFE_INTEGER },
        comparisons: 1,
        rDetectValues: [2],
      };
      const evaluation = evaluateGates(input);
      if (evaluation.verdict === 'rollback') {
        rollbacks += 1;
        break;
      }
      state = evaluation.state;
    }
  }
  return rollbacks / REPLICATES;
}

describe('mixture SPRT by simulation (400 replicates × 100 windows, p = 0.2 %, ~1000 devices per cohort)', () => {
  it('falsely rolls back a good release (R = 1) at most α of the time', () => {
    const rate = rollbackRate(1, 0x5eed);
    // Ville's inequality bounds the rate by α; three binomial standard errors of slack for Monte Carlo noise.
    expect(rate).toBeLessThanOrEqual(ALPHA + 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / REPLICATES));
  });

  it('rolls back a 3× crash regression in at least 95 % of replicates', () => {
    const rate = rollbackRate(3, 0xbad);
    expect(rate).toBeGreaterThanOrEqual(0.95);
  });
});
