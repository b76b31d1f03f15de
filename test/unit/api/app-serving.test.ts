import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundleRef } from '../../support/fixtures';
import { buildAppServing, channelServing, createOverrideTable, isNewerRelease } from '../../../api/snapshot/app-serving';
import { RELEASE_STATUSES, isWithdrawn } from '../../../domain/release';
import { buildChannelServing, type ServingRelease } from '../../../domain/serving';

describe('AppServing self-assignments', () => {
  it('applies a device choice locally, counts self-assignments, and never touches an admin override', () => {
    const overrides = createOverrideTable([
      { deviceId: 'admin-pinned', channel: 'staff', source: 'admin' },
      { deviceId: 'chose', channel: 'beta', source: 'self' },
    ]);
    const app = buildAppServing({ appId: 'com.example.app', channels: [], segments: [], signingKey: null }, new Map(), overrides);
    expect(app.selfAssignments).toBe(1);
    app.assignLocally('new', 'beta');
    app.assignLocally('chose', 'alpha');
    expect(app.selfAssignments).toBe(2);
    expect(app.overrides.get('chose')).toEqual({ channel: 'alpha', source: 'self' });
    app.assignLocally('admin-pinned', 'beta');
    app.assignLocally('admin-pinned', null);
    expect(app.overrides.get('admin-pinned')).toEqual({ channel: 'staff', source: 'admin' });
    app.assignLocally('new', null);
    expect(app.selfAssignments).toBe(1);
    expect(app.overrides.has('new')).toBe(false);
  });

  it('applies a stored override change to the table the app serves from, without rebuilding it', () => {
    const overrides = createOverrideTable([{ deviceId: 'd', channel: 'beta', source: 'self' }]);
    const app = buildAppServing({ appId: 'com.example.app', channels: [], segments: [], signingKey: null }, new Map(), overrides);
    overrides.put('d', { channel: 'staff', source: 'admin' });
    expect(app.overrides.get('d')).toEqual({ channel: 'staff', source: 'admin' });
    expect(app.selfAssignments).toBe(0);
    overrides.put('d', null);
    expect(app.overrides.size).toBe(0);
  });
});

describe(channelServing.name, () => {
  const versions = ['1.0.0', '1.1.0', '1.2.0', '2.0.0'];
  const releaseArb = fc.record({
    id: fc.integer({ min: 0, max: 30 }),
    createdAt: fc.integer({ min: 0, max: 5 }),
    status: fc.constantFrom(...RELEASE_STATUSES),
    target: fc.constantFrom(...versions),
    fallback: fc.option(fc.constantFrom(...versions)),
  });

  it('answers as a full rebuild does, from the newest release and the withdrawn versions alone', () => {
    fc.assert(
      fc.property(fc.uniqueArray(releaseArb, { minLength: 1, maxLength: 12, selector: (r) => r.id }), (specs) => {
        const releases = specs.map(
          (s): ServingRelease => ({
            releaseId: `r${s.id}`,
            appId: 'com.example.app',
            channel: 'production',
            bucketSalt: 'salt',
            windowMs: 1000,
            createdAt: s.createdAt,
            revision: 1,
            status: s.status,
            stageIndex: 0,
            exposure: {},
            publishedAt: 0,
            target: bundleRef(s.target),
            fallback: s.fallback === null ? null : bundleRef(s.fallback),
          }),
        );
        const newest = releases.reduce((a, b) => (isNewerRelease(b, a) ? b : a));
        const withdrawn = new Set(releases.filter((r) => isWithdrawn(r.status)).map((r) => r.target.version));
        const incremental = channelServing(newest, withdrawn);
        const rebuilt = buildChannelServing(releases).get('production')!;
        expect(incremental.current).toBe(rebuilt.current);
        expect(new Set(incremental.withdrawnVersions)).toEqual(new Set(rebuilt.withdrawnVersions));
        expect(incremental.withdrawnVersions.size).toBe(rebuilt.withdrawnVersions.size);
        for (const v of [...versions, 'builtin']) expect(incremental.withdrawnVersions.has(v)).toBe(rebuilt.withdrawnVersions.has(v));
      }),
    );
  });
});
