// A small seedable PRNG whose whole state is four 32-bit words, so it can be saved in a
// checkpoint and restored exactly. sfc32 (Chris Doty-Humphrey's Small Fast Counting generator)
// passes PractRand and needs only 32-bit integer arithmetic, which JavaScript does exactly.
import { z } from 'zod';

export const PrngStateSchema = z.object({
  algorithm: z.literal('sfc32'),
  state: z.tuple([z.int(), z.int(), z.int(), z.int()]),
});
export type PrngState = z.infer<typeof PrngStateSchema>;

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(state: readonly [number, number, number, number]) {
    [this.a, this.b, this.c, this.d] = state.map((v) => v >>> 0) as [number, number, number, number];
  }

  /** Seeds by mixing the seed into the state and discarding the first outputs, as sfc32's author does. */
  static fromSeed(seed: number): Prng {
    const prng = new Prng([0x9e3779b9, seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, 1]);
    for (let i = 0; i < 15; i += 1) prng.nextUint32();
    return prng;
  }

  static fromState(saved: PrngState): Prng {
    return new Prng(PrngStateSchema.parse(saved).state);
  }

  state(): PrngState {
    return { algorithm: 'sfc32', state: [this.a, this.b, this.c, this.d] };
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Uniform integer in [0, n) without modulo bias. */
  nextInt(n: number): number {
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % n;
    }
  }

  /** A Fisher–Yates permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i += 1) order[i] = i;
    for (let i = n - 1; i > 0; i -= 1) {
      const j = this.nextInt(i + 1);
      const swap = order[i] as number;
      order[i] = order[j] as number;
      order[j] = swap;
    }
    return order;
  }
}
