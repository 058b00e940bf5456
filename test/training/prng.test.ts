// The shuffle's PRNG: sfc32 exactly (checked against an independent implementation), a state
// that round-trips through a checkpoint, and unbiased integers and permutations.
import { describe, expect, it } from 'vitest';
import { Prng, PrngStateSchema } from '../../electron/core/training/engine/prng.js';

/** sfc32 as commonly published (bryc's JavaScript port of Doty-Humphrey's generator). */
function referenceSfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
}

describe('the sfc32 PRNG', () => {
  it('produces what the reference sfc32 produces from the same state', () => {
    const prng = Prng.fromState({ algorithm: 'sfc32', state: [0xdeadbeef, 0x12345678, 0x9abcdef0, 42] });
    const reference = referenceSfc32(0xdeadbeef, 0x12345678, 0x9abcdef0, 42);
    for (let i = 0; i < 1000; i += 1) expect(prng.nextUint32()).toBe(reference());
  });

  it('is the same for the same seed, different for another, and resumes exactly from its saved state', () => {
    const a = Prng.fromSeed(7);
    const b = Prng.fromSeed(7);
    const c = Prng.fromSeed(8);
    const first = Array.from({ length: 10 }, () => a.nextUint32());
    expect(Array.from({ length: 10 }, () => b.nextUint32())).toEqual(first);
    expect(Array.from({ length: 10 }, () => c.nextUint32())).not.toEqual(first);
    // Seeds beyond 32 bits are mixed in too.
    expect(Prng.fromSeed(2 ** 32 + 7).nextUint32()).not.toBe(Prng.fromSeed(7).nextUint32());
    const saved = JSON.parse(JSON.stringify(a.state()));
    const resumed = Prng.fromState(saved);
    expect(Array.from({ length: 100 }, () => resumed.nextUint32())).toEqual(Array.from({ length: 100 }, () => a.nextUint32()));
  });

  it('refuses a state it did not write', () => {
    expect(() => Prng.fromState({ algorithm: 'mt19937', state: [1, 2, 3, 4] } as never)).toThrow();
    expect(PrngStateSchema.safeParse({ algorithm: 'sfc32', state: [1, 2, 3] }).success).toBe(false);
  });

  it('draws integers without modulo bias, and permutations that are permutations', () => {
    const prng = Prng.fromSeed(1);
    // n = 3 × 2^30 makes plain modulo visibly biased toward small values; rejection keeps it uniform.
    const n = 3 * 2 ** 30;
    let low = 0;
    const draws = 30_000;
    for (let i = 0; i < draws; i += 1) if (prng.nextInt(n) < n / 2) low += 1;
    expect(Math.abs(low / draws - 0.5)).toBeLessThan(0.02);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i += 1) {
      const face = prng.nextInt(6);
      counts[face] = (counts[face] ?? 0) + 1;
    }
    for (const count of counts) expect(Math.abs(count / 10_000 - 1)).toBeLessThan(0.05);
    const order = Prng.fromSeed(3).permutation(1000);
    expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([...order]).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([...Prng.fromSeed(3).permutation(1000)]).toEqual([...order]);
  });
});
