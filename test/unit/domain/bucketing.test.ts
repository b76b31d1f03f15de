import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, cohortOf } from '../../../domain/bucketing';
import { murmur3x86_32 } from '../../../domain/murmur3';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe(murmur3x86_32.name, () => {
  it('matches the MurmurHash3 x86_32 reference vectors over UTF-8 bytes', () => {
    expect(murmur3x86_32(utf8('My hovercraft is full of eels.'))).toBe(2953494853);
    expect(murmur3x86_32(utf8('My 🚀 is full of 🦎.'))).toBe(1818098979);
    expect(murmur3x86_32(utf8(''))).toBe(0);
    expect(murmur3x86_32(utf8(''), 1)).toBe(0x514e28b7);
  });

  it('matches the Unleash client-specification rollout vectors', () => {
    const cases: Array<[string, number, number]> = [
      ['Feature.flexibleRollout.10:174', 3067997709, 10],
      ['Feature.flexibleRollout.10:499', 330494531, 32],
      ['Feature.flexibleRollout.userId.55:25', 1087573954, 55],
      ['Feature.flexibleRollout.sessionId.42:147', 391178641, 42],
    ];
    for (const [key, hash, unleashBucket] of cases) {
      expect(murmur3x86_32(utf8(key))).toBe(hash);
      expect((hash % 100) + 1).toBe(unleashBucket);
    }
  });
});

describe(bucketOf.name, () => {
  it('matches the project vectors, including a non-ASCII id hashed as UTF-8', () => {
    expect(bucketOf('rollout-2024-001', '7239a82f-4ea8-4e33-9085-f4ad974d3fc4')).toBe(4047);
    expect(bucketOf('rollout-2024-001', '0f8fad5b-d9cb-469f-a165-70867728950e')).toBe(2619);
    expect(bucketOf('rollout-2024-001', 'gerät-ü-01')).toBe(7981);
    expect(bucketOf('Feature.flexibleRollout.10', '174')).toBe(7709);
  });

  it('is uniform over 100k UUID-shaped ids (chi-square, 100 classes)', () => {
    // Deterministic pseudo-random ids keep the test reproducible.
    const uuidOf = (i: number) => {
      const h = createHash('sha1').update(String(i)).digest('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    };
    const classes = 100;
    const n = 100_000;
    const counts = new Array<number>(classes).fill(0);
    for (let i = 0; i < n; i++) counts[Math.floor(bucketOf('uniformity-salt', uuidOf(i)) / 100)]! += 1;
    const expected = n / classes;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 99 degrees of freedom: P(chi2 > 148.2) = 0.001.
    expect(chi2).toBeLessThan(148.2);
  });

  it('is stable across processes', () => {
    const ids = ['a', 'device-42', 'gerät-ü-01', '7239a82f-4ea8-4e33-9085-f4ad974d3fc4'];
    const script = `const { bucketOf } = require(${JSON.stringify(path.resolve(__dirname, '../../../domain/bucketing.ts'))});
      process.stdout.write(JSON.stringify(${JSON.stringify(ids)}.map((id) => bucketOf('cross-process', id))));`;
    const tsx = path.resolve(__dirname, '../../../node_modules/.bin/tsx');
    const other = JSON.parse(execFileSync(tsx, ['-e', script], { encoding: 'utf8' })) as number[];
    expect(other).toEqual(ids.map((id) => bucketOf('cross-process', id)));
  });
});

describe(cohortOf.name, () => {
  it('only adds devices as exposure grows (monotone)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (id, salt, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (cohortOf(salt, id, low) === 'canary') expect(cohortOf(salt, id, high)).toBe('canary');
      }),
    );
  });

  it('puts the next slice of the same size into the control cohort, capped at the complement', () => {
    const salt = 'control-salt';
    for (let i = 0; i < 5000; i++) {
      const id = `d-${i}`;
      const bucket = bucketOf(salt, id);
      expect(cohortOf(salt, id, 1000)).toBe(bucket < 1000 ? 'canary' : bucket < 2000 ? 'control' : 'none');
      expect(cohortOf(salt, id, 7000)).toBe(bucket < 7000 ? 'canary' : 'control');
      expect(cohortOf(salt, id, 10_000)).toBe('canary');
    }
  });

  it('draws independent cohorts for different releases (overlap ≈ product of shares)', () => {
    const n = 100_000;
    let both = 0;
    for (let i = 0; i < n; i++) {
      const id = `device-${i}`;
      if (cohortOf('release-a', id, 1000) === 'canary' && cohortOf('release-b', id, 1000) === 'canary') both += 1;
    }
    // Expected 1 % (1000 devices); binomial sd ≈ 31.5, so ±5 sd.
    expect(Math.abs(both - 1000)).toBeLessThan(160);
  });

  it('never puts a device without a usable id into any cohort', () => {
    for (const id of [undefined, null, '', '   ']) {
      expect(cohortOf('salt', id, 10_000)).toBe('none');
      expect(cohortOf('salt', id, 4000)).toBe('none');
    }
    expect(cohortOf('salt', 'device-1', 0)).toBe('none');
  });
});
