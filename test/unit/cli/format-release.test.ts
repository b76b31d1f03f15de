import { describe, expect, it } from 'vitest';
import { formatRelease } from '../../../cli/format-release';
import { release, T0, transition } from './release-fixture';

describe('formatRelease', () => {
  it('reads soak progress in human durations against the current stage', () => {
    const lines = formatRelease(release(), T0 + 10_000);
    expect(lines).toContain('soaked 2 m 10 s of 4 m minimum (1 m 50 s to go), pauses for a human at 16 m without a verdict');
    expect(lines).toContain('next check in 20 s (every 30 s)');
    expect(lines.join('\n')).not.toMatch(/e-\d| h\b/);
  });

  it('says the minimum is past once it is, and that a check is due when its time has come', () => {
    const lines = formatRelease(release({ soakedMs: 300_000 }), T0 + 45_000);
    expect(lines).toContain('soaked 5 m, past the 4 m minimum, pauses for a human at 16 m without a verdict');
    expect(lines).toContain('next check due now (every 30 s)');
  });

  it('uses the soak figures of the stage the release is in', () => {
    const r = release({ stageIndex: 1, stageName: 'all', soakedMs: 1000 });
    r.plan!.stages[1]!.minSoakMs = 3_600_000;
    expect(formatRelease(r, T0)).toContain('soaked 1 s of 1 h minimum (59 m 59 s to go), pauses for a human at 16 m without a verdict');
  });

  it('shows no soak or countdown while a stage is being entered, nor a countdown while paused', () => {
    expect(formatRelease(release({ phase: 'entering' }), T0).join('\n')).not.toMatch(/soaked|next check/);
    const paused = formatRelease(release({ status: 'paused' }), T0).join('\n');
    expect(paused).toContain('soaked 2 m 10 s');
    expect(paused).not.toContain('next check');
  });

  it('shows the gate verdict with its time, current while nothing happened since', () => {
    const lines = formatRelease(release(), T0);
    expect(lines).toContain('gates continue at 2025-06-02T10:00:00.000Z (stage 1): keep baking');
    expect(lines.join('\n')).not.toContain('stale');
  });

  it('marks the gate verdict stale when a human paused or resumed after it', () => {
    const r = release({
      status: 'paused',
      history: [...release().history, transition(T0 + 5000, 'paused', 'key:alice', 'crash reports from support', 'paused')],
    });
    const lines = formatRelease(r, T0 + 6000);
    const gates = lines.findIndex((l) => l.startsWith('gates continue at 2025-06-02T10:00:00.000Z'));
    expect(gates).toBeGreaterThan(-1);
    expect(lines[gates + 1]).toBe('  stale: paused by key:alice at 2025-06-02T10:00:05.000Z came after this verdict');
  });

  it('does not call a verdict stale for the transition it caused itself', () => {
    const r = release({ status: 'paused', history: [...release().history, transition(T0, 'paused', 'rampart:gate', 'no data', 'paused')] });
    expect(formatRelease(r, T0).join('\n')).not.toContain('stale');
  });
});
