import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, cohortOf, type Cohort } from '../../../domain/bucketing';
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

// style-anchors §8.2: bucketBps = murmur3_x86_32(utf8(salt + ':' + deviceId), seed 0) % 10000, with
// the hash published next to each bucket so a wrong modulus and a wrong hash tell themselves apart.
const BUCKET_VECTORS: Array<{ salt: string; deviceId: string; murmur3: number; bucket: number }> = [
  { salt: 'rollout-2024-001', deviceId: '7239a82f-4ea8-4e33-9085-f4ad974d3fc4', murmur3: 2147174047, bucket: 4047 },
  { salt: 'rollout-2024-001', deviceId: '0f8fad5b-d9cb-469f-a165-70867728950e', murmur3: 709382619, bucket: 2619 },
  // Non-ASCII: hashing UTF-16 code units (murmurhash3js) would give 3558694279 → 4279.
  { salt: 'rollout-2024-001', deviceId: 'gerät-ü-01', murmur3: 879177981, bucket: 7981 },
  { salt: 'Feature.flexibleRollout.10', deviceId: '174', murmur3: 3067997709, bucket: 7709 },
  { salt: 'Feature.flexibleRollout.10', deviceId: '499', murmur3: 330494531, bucket: 4531 },
  { salt: 'Feature.flexibleRollout.userId.55', deviceId: '25', murmur3: 1087573954, bucket: 3954 },
  { salt: 'Feature.flexibleRollout.sessionId.42', deviceId: '147', murmur3: 391178641, bucket: 8641 },
];

describe(bucketOf.name, () => {
  it.each(BUCKET_VECTORS)('matches the published vector for $salt:$deviceId', ({ salt, deviceId, murmur3, bucket }) => {
    expect(murmur3x86_32(utf8(`${salt}:${deviceId}`))).toBe(murmur3);
    expect(bucketOf(salt, deviceId)).toBe(bucket);
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
    // Buckets from the published vectors: 2619, 4047, 7981 (salt rollout-2024-001), 7709 (Unleash).
    const [b2619, b4047, b7981] = ['0f8fad5b-d9cb-469f-a165-70867728950e', '7239a82f-4ea8-4e33-9085-f4ad974d3fc4', 'gerät-ü-01'];
    const cases: Array<[string, string, number, Cohort]> = [
      ['rollout-2024-001', b2619, 1000, 'none'],
      ['rollout-2024-001', b2619, 2500, 'control'],
      ['rollout-2024-001', b2619, 2620, 'canary'],
      ['rollout-2024-001', b4047, 2000, 'none'],
      ['rollout-2024-001', b4047, 2024, 'control'],
      ['rollout-2024-001', b4047, 5000, 'canary'],
      ['rollout-2024-001', b7981, 5000, 'control'],
      // Canary 7000 bps leaves 3000 for the control: 7000 … 9999.
      ['rollout-2024-001', b7981, 7000, 'control'],
      ['rollout-2024-001', b7981, 10_000, 'canary'],
      // Exactly on the bucket: `<`, not Unleash's `≤`.
      ['Feature.flexibleRollout.10', '174', 7709, 'control'],
      ['Feature.flexibleRollout.10', '174', 7710, 'canary'],
    ];
    for (const [salt, deviceId, exposureBps, cohort] of cases) expect(cohortOf(salt, deviceId, exposureBps), `${salt}:${deviceId} at ${exposureBps}`).toBe(cohort);
  });

  it('sizes canary and control as the exposure says over many devices', () => {
    const n = 20_000;
    const shares = (exposureBps: number) => {
      const counts: Record<Cohort, number> = { canary: 0, control: 0, none: 0 };
      for (let i = 0; i < n; i++) counts[cohortOf('control-salt', `d-${i}`, exposureBps)] += 1;
      return { canary: counts.canary / n, control: counts.control / n, none: counts.none / n };
    };
    // Binomial sd at n = 20 000 is at most 0.0036 (share 0.5); 0.015 is about 4 sd.
    const expectShares = (exposureBps: number, expected: Record<Cohort, number>) => {
      const seen = shares(exposureBps);
      for (const cohort of ['canary', 'control', 'none'] as const) {
        expect(Math.abs(seen[cohort] - expected[cohort]), `${cohort} share at ${exposureBps} bps: ${seen[cohort]}`).toBeLessThan(0.015);
      }
    };
    expectShares(1000, { canary: 0.1, control: 0.1, none: 0.8 });
    expectShares(7000, { canary: 0.7, control: 0.3, none: 0 });
    expect(shares(10_000)).toEqual({ canary: 1, control: 0, none: 0 });
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
