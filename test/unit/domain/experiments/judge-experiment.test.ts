import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ExperimentJudgementInput, judgeExperiment } from '../../../../domain/experiments/judge-experiment';
import type { MeanSummary } from '../../../../domain/experiments/mean-difference-sequence';
import { meanDifferenceSequence } from '../../../../domain/experiments/mean-difference-sequence';

/** n sessions averaging `mean` ms with standard deviation `sd`. */
function sessions(n: number, mean: number, sd: number): MeanSummary {
  const sum = n * mean;
  return { n, sum, sumOfSquares: sd * sd * (n - 1) + sum * mean };
}

function durations(arms: Record<string, MeanSummary>, overrides: Partial<ExperimentJudgementInput> = {}): ExperimentJudgementInput {
  return { primary: { kind: 'mean', direction: 'higher', arms }, control: 'A', alpha: 0.05, minSamplePerArm: 100, ...overrides };
}

describe(judgeExperiment.name, () => {
  it('declares the only arm whose interval lies above 0 the winner, at α split over the pairs of arms', () => {
    const judgement = judgeExperiment(durations({ A: sessions(20_000, 60_000, 60_000), B: sessions(20_000, 66_000, 60_000), C: sessions(20_000, 60_300, 60_000) }));
    expect(judgement.alphaEach).toBeCloseTo(0.05 / 3, 15);
    expect(judgement.arms.map((a) => [a.arm, a.verdict, a.sample])).toEqual([
      ['B', 'better', 20_000],
      ['C', 'inconclusive', 20_000],
    ]);
    expect(judgement.arms[0]!.interval).toEqual(meanDifferenceSequence(sessions(20_000, 66_000, 60_000), sessions(20_000, 60_000, 60_000), 0.05 / 3));
    expect(judgement.arms[0]!.interval.relativeEstimate).toBeCloseTo(0.1, 12);
    expect(judgement).toMatchObject({ winner: 'B', decided: true });
  });

  it('uses the whole α for a plain A/B test', () => {
    const judgement = judgeExperiment(durations({ A: sessions(1000, 10, 5), B: sessions(1000, 10, 5) }));
    expect(judgement.alphaEach).toBe(0.05);
    expect(judgement).toMatchObject({ winner: null, decided: false });
  });

  it('judges nothing before both the arm and the control reach the minimum sample', () => {
    const arms = { A: sessions(99, 60_000, 1000), B: sessions(5000, 90_000, 1000) };
    expect(judgeExperiment(durations(arms)).arms[0]!.verdict).toBe('inconclusive');
    expect(judgeExperiment(durations(arms, { minSamplePerArm: 99 })).arms[0]!.verdict).toBe('better');
  });

  it('reads the direction: lower is better for crashed sessions', () => {
    const input: ExperimentJudgementInput = {
      primary: { kind: 'proportion', direction: 'lower', arms: { A: { n: 50_000, x: 500 }, B: { n: 50_000, x: 250 } } },
      control: 'A',
      alpha: 0.05,
      minSamplePerArm: 1000,
    };
    expect(judgeExperiment(input)).toMatchObject({ arms: [{ arm: 'B', verdict: 'better' }], winner: 'B' });
    const higher = judgeExperiment({ ...input, primary: { ...input.primary, direction: 'higher' } });
    expect(higher).toMatchObject({ arms: [{ arm: 'B', verdict: 'worse' }], winner: 'A', decided: true });
  });

  it('picks among several better arms only the one better than each of the others', () => {
    const clear = judgeExperiment(durations({ A: sessions(40_000, 100, 100), B: sessions(40_000, 110, 100), C: sessions(40_000, 104, 100) }));
    expect(clear.arms.map((a) => a.verdict)).toEqual(['better', 'better']);
    expect(clear.winner).toBe('B');
    const close = judgeExperiment(durations({ A: sessions(40_000, 100, 100), B: sessions(40_000, 105, 100), C: sessions(40_000, 104.5, 100) }));
    expect(close.arms.map((a) => a.verdict)).toEqual(['better', 'better']);
    expect(close).toMatchObject({ winner: null, decided: false });
  });

  it('never lets a stopped arm win, and falls back to the control when every other arm lost or was stopped', () => {
    const arms = { A: sessions(20_000, 100, 100), B: sessions(20_000, 110, 100), C: sessions(20_000, 90, 100) };
    expect(judgeExperiment(durations(arms, { stoppedArms: ['B'] }))).toMatchObject({ winner: 'A', decided: true });
    const onlyC = { A: sessions(20_000, 100, 100), C: sessions(20_000, 100, 100) };
    expect(judgeExperiment(durations(onlyC))).toMatchObject({ winner: null });
    expect(judgeExperiment(durations(onlyC, { stoppedArms: ['C'] }))).toMatchObject({ winner: 'A' });
  });

  it('has a winner exactly when it is decided, and the winner is the control or an arm judged better', () => {
    const arm = fc.record({ n: fc.integer({ min: 0, max: 50_000 }), mean: fc.double({ min: 50, max: 150, noNaN: true }), sd: fc.double({ min: 0, max: 200, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(arm, { minLength: 2, maxLength: 5 }), fc.subarray(['B', 'C', 'D', 'E']), (specs, stoppedArms) => {
        const arms = Object.fromEntries(specs.map((s, i) => ['ABCDE'[i]!, sessions(s.n, s.mean, s.sd)]));
        const judgement = judgeExperiment(durations(arms, { stoppedArms }));
        expect(judgement.decided).toBe(judgement.winner !== null);
        expect(judgement.arms.map((a) => a.arm)).toEqual(Object.keys(arms).filter((a) => a !== 'A'));
        if (judgement.winner !== null && judgement.winner !== 'A') {
          expect(stoppedArms).not.toContain(judgement.winner);
          expect(judgement.arms.find((a) => a.arm === judgement.winner)?.verdict).toBe('better');
        }
      }),
    );
  });
});
