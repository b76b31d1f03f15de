import { describe, expect, it } from 'vitest';
import { withAttack } from '../../../bench/gate-simulator/attacker-model';
import { DEFAULT_OPTIONS, runAttackSimulation } from '../../../bench/gate-simulator/run-simulation';
import type { SegmentWindow } from '../../../domain/gates/gate-types';

const events = (crash: number) => ({ crash, js_error: 0, boot_failed: 0, install_failed: 0 });
const honest: Record<string, SegmentWindow> = {
  default: { canary: { devices: 400, events: events(8) }, control: { devices: 400, events: events(4) }, canarySliceDevices: 420, controlSliceDevices: 410 },
};

describe('attacker model', () => {
  it('adds forged failures as the gate-window store would read them: fresh ones set aside, newcomers counted', () => {
    const atOnce = withAttack(honest, { kind: 'forged-failures', ids: 30, timing: 'at-once' }).default!;
    expect(atOnce.canary).toEqual(honest.default!.canary);
    expect(atOnce.trust).toMatchObject({ veteranDevices: 830, freshDevices: 30, setAsideFailing: 30, veteranFailing: 8 });
    const waited = withAttack(honest, { kind: 'forged-failures', ids: 30, timing: 'after-a-window' }).default!;
    expect(waited.canary).toEqual({ devices: 430, events: { crash: 38, js_error: 0, boot_failed: 30, install_failed: 0 } });
    expect(waited.trust).toMatchObject({ newcomerDevices: 30, newcomerFailing: 30 });
  });

  it('pads both cohorts so that the control crashes as often as the canary', () => {
    const padded = withAttack(honest, { kind: 'padding', ids: 400 }).default!;
    expect(padded.canary.devices).toBe(800);
    expect(padded.control.devices).toBe(800);
    expect(padded.control.events.crash).toBe(padded.canary.events.crash);
    expect(padded.trust?.newcomerDevices).toBe(800);
  });

  it('forged failures cause no rollback at any size, and padding above the burst threshold advances nothing (small run)', () => {
    const options = { ...DEFAULT_OPTIONS, replicates: 4, horizonHours: 36 };
    const cells = runAttackSimulation(options, [
      { attack: { kind: 'forged-failures', ids: 1, timing: 'after-a-window' }, ratios: [1] },
      { attack: { kind: 'forged-failures', ids: 300, timing: 'after-a-window' }, ratios: [1] },
      { attack: { kind: 'padding', ids: 1000 }, ratios: [2] },
    ]);
    expect(cells.map((c) => c.rollbacksCaused)).toEqual([0, 0, 0]);
    expect(cells.map((c) => c.stagesAdvanced)).toEqual([0, 0, 0]);
  });
});
