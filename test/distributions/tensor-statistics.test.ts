// The figures' arithmetic on its own: quantiles from a fine histogram within their stated error
// of the exact ones, moments that stay accurate far from zero, and every dtype decoded as the
// numbers it stores, checked against values written independently here.
import { describe, expect, it } from 'vitest';
import { BinCounter, FiniteValues, MomentsAccumulator, QUANTILE_LEVELS, sharedRange } from '../../electron/core/distributions/tensor-statistics.js';
import { ValueStream } from '../../electron/core/distributions/tensor-values.js';

function exactQuantile(sorted: readonly number[], q: number): number {
  const rank = q * (sorted.length - 1);
  const i = Math.floor(rank);
  const j = Math.min(i + 1, sorted.length - 1);
  return (sorted[i] as number) + (rank - i) * ((sorted[j] as number) - (sorted[i] as number));
}

/** A deterministic, skewed sample: squares of a sine walk. */
function sample(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) ** 2 * 3 - 1);
}

describe('tensor statistics', () => {
  it('gives quantiles from a histogram within one bin width of the exact ones', () => {
    const values = sample(50_000);
    const sorted = [...values].sort((a, b) => a - b);
    const min = sorted[0] as number;
    const max = sorted.at(-1) as number;
    const bins = 256;
    const counter = new BinCounter(min, max, bins);
    counter.add(values, values.length);
    const approx = counter.quantiles(QUANTILE_LEVELS, min, max);
    const width = (max - min) / bins;
    QUANTILE_LEVELS.forEach((q, i) => expect(Math.abs((approx[i] as number) - exactQuantile(sorted, q))).toBeLessThanOrEqual(width));
    // And the exact path is exact.
    const exact = new FiniteValues(values.length);
    exact.add(values, values.length);
    expect(exact.quantiles(QUANTILE_LEVELS)).toEqual(QUANTILE_LEVELS.map((q) => exactQuantile(sorted, q)));
  });

  it('keeps mean and standard deviation accurate around a large offset, split over chunks', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => 1e9 + (i % 2 === 0 ? 1 : -1));
    const moments = new MomentsAccumulator();
    moments.add(values.subarray(0, 333), 333);
    moments.add(values.subarray(333), 667);
    const result = moments.result();
    expect(result.mean).toBeCloseTo(1e9, 6);
    expect(result.std).toBeCloseTo(1, 9);
    expect(result.count).toBe(1000);
  });

  it('puts a run of one value in one bin of width 1 around it', () => {
    expect(sharedRange([2, null], [2, null])).toEqual({ lo: 1.5, hi: 2.5 });
    expect(sharedRange([null], [null])).toBeNull();
    expect(sharedRange([-1, 0], [3, 5])).toEqual({ lo: -1, hi: 5 });
  });

  it('decodes each dtype, whatever the chunk boundaries', () => {
    const cases: [Parameters<typeof ValueStream.prototype.push>[0], ConstructorParameters<typeof ValueStream>[0], number[]][] = [
      [new Uint8Array(new Float64Array([1.5, -2.25, Infinity]).buffer), 'F64', [1.5, -2.25, Infinity]],
      [new Uint8Array(new Float32Array([0.5, -3, NaN]).buffer), 'F32', [0.5, -3, NaN]],
      // binary16: 1.0 = 0x3c00, -2.0 = 0xc000, the smallest subnormal 2^-24 = 0x0001, +Inf = 0x7c00, NaN = 0x7e00.
      [new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00, 0x7e00]).buffer), 'F16', [1, -2, 2 ** -24, Infinity, NaN]],
      // bfloat16 is float32's upper half: 1.0 = 0x3f80, -0.5 = 0xbf00.
      [new Uint8Array(new Uint16Array([0x3f80, 0xbf00]).buffer), 'BF16', [1, -0.5]],
      [new Uint8Array(new BigInt64Array([-5n, 2n ** 40n]).buffer), 'I64', [-5, 2 ** 40]],
      [new Uint8Array(new Int32Array([-7, 9]).buffer), 'I32', [-7, 9]],
      [new Uint8Array(new Int8Array([-1, 127]).buffer), 'I8', [-1, 127]],
      [new Uint8Array([0, 1, 1]), 'BOOL', [0, 1, 1]],
    ];
    for (const [bytes, dtype, expected] of cases) {
      const seen: number[] = [];
      const stream = new ValueStream(dtype, (values, count) => seen.push(...values.subarray(0, count)));
      // Split at an odd offset, inside an element.
      stream.push(bytes.subarray(0, 3));
      stream.push(bytes.subarray(3));
      expect(stream.leftover).toBe(0);
      expect(seen).toEqual(expected);
    }
  });
});
