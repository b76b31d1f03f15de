/**
 * Seeded randomness for the simulator. Every draw comes from a stream keyed by what it is for
 * (seed, replicate, hour, segment, stratum), not from one long sequence: two gates driven over the
 * same replicate then see the same fleet for as long as their rollouts expose the same slices
 * (common random numbers), however many draws each has consumed before.
 */

import { fmix32 } from '../../domain/murmur3';

/** A source of uniform doubles in [0, 1). */
export interface Rng {
  readonly next: () => number;
}

const GOLDEN = 0x9e3779b9;

/** Hashes integer keys (each taken modulo 2³²) into one 32-bit value; order matters. */
export function hashKeys(keys: readonly number[]): number {
  let h = 0x2545f491;
  for (const key of keys) h = fmix32(Math.imul(h ^ (key >>> 0), GOLDEN) + 0x6b43a9b5);
  return fmix32(h ^ keys.length);
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast chaotic generator): 128 bits of state, passes PractRand,
 * and needs only 32-bit integer arithmetic, which JavaScript does exactly.
 */
export function createRng(keys: readonly number[]): Rng {
  let a = hashKeys([...keys, 1]);
  let b = hashKeys([...keys, 2]);
  let c = hashKeys([...keys, 3]);
  let d = 1;
  const next32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  // The first outputs of a freshly keyed sfc32 are still correlated with the key.
  for (let i = 0; i < 12; i++) next32();
  // 53 random bits, so tail probabilities far below 2⁻³² are still resolved by inversion.
  return { next: () => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992 };
}
