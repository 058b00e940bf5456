// Smoothing: TensorBoard's debiased EMA over points, and the step-aware EMA whose time constant
// is in steps, so logging density does not change the curve.
import { describe, expect, it } from 'vitest';
import { emaSmooth, stepSmooth, stepUnit, timeConstant } from '../../renderer/src/lib/smoothing';

/** TensorBoard's classicSmoothing, written out plainly as its reference. */
function tensorboard(values: number[], w: number): number[] {
  let last = 0;
  return values.map((y, i) => {
    last = last * w + (1 - w) * y;
    return last / (1 - w ** (i + 1));
  });
}

const noisy = Array.from({ length: 200 }, (_, i) => Math.exp(-i / 50) + 0.1 * Math.sin(i * 1.7));

describe('TensorBoard smoothing (per point)', () => {
  it('matches the debiased EMA, and its first point is the raw value', () => {
    const out = emaSmooth(noisy, 0.6);
    const expected = tensorboard(noisy, 0.6);
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 12));
    expect(out[0]).toBe(noisy[0]);
    // Without the debiasing, the first point would be 0.4 of the value: that is what it removes.
    expect(out[0]).not.toBeCloseTo((noisy[0] as number) * 0.4, 3);
  });

  it('smooths more with a larger weight, and not at all with 0', () => {
    const roughness = (v: (number | null)[]): number => v.slice(1).reduce((s: number, y, i) => s + Math.abs((y as number) - (v[i] as number)), 0);
    expect(emaSmooth(noisy, 0)).toEqual(noisy);
    expect(roughness(emaSmooth(noisy, 0.9))).toBeLessThan(roughness(emaSmooth(noisy, 0.6)));
    expect(roughness(emaSmooth(noisy, 0.6))).toBeLessThan(roughness(noisy));
  });

  it('leaves gaps as gaps without counting them, and a constant curve exactly constant', () => {
    const out = emaSmooth([1, null, 3], 0.5);
    expect(out[1]).toBeNull();
    // Two finite points: (0.5·0.5·1 + 0.5·3) / (1 − 0.25), as if the gap were not there.
    expect(out[2]).toBeCloseTo((0.25 + 1.5) / 0.75, 12);
    expect(emaSmooth([0.3, 0.3, 0.3, 0.3], 0.9)).toEqual([0.3, 0.3, 0.3, 0.3]);
  });
});

describe('step-aware smoothing', () => {
  it("is TensorBoard's when each point is one unit of steps apart", () => {
    const steps = noisy.map((_, i) => i * 10);
    const out = stepSmooth(steps, noisy, 0.6, 10);
    const expected = tensorboard(noisy, 0.6);
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 9));
    expect(out[0]).toBe(noisy[0]);
  });

  it('gives the same curve whether a signal was logged every step or every 10 steps (linear and constant)', () => {
    const unit = stepUnit(10_000);
    const w = 0.9;
    const tau = timeConstant(w, unit);
    expect(tau).toBeGreaterThan(50);
    const dense = Array.from({ length: 10_001 }, (_, i) => i);
    const sparse = dense.filter((s) => s % 10 === 0);
    const linear = (s: number): number => 5 - s / 1000;
    const denseOut = stepSmooth(dense, dense.map(linear), w, unit);
    const sparseOut = stepSmooth(sparse, sparse.map(linear), w, unit);
    // Compared at the steps both have, after the start-up of a few time constants: the lag of a
    // linear signal is ~τ steps in both, within 10 % of τ.
    for (const s of [2000, 5000, 10_000]) {
      const a = denseOut[s] as number;
      const b = sparseOut[s / 10] as number;
      expect(Math.abs(a - b)).toBeLessThan((0.1 * tau) / 1000);
    }
    // And TensorBoard's per-point smoothing does change with the density (by ~10×).
    const tbDense = emaSmooth(dense.map(linear), w)[10_000] as number;
    const tbSparse = emaSmooth(sparse.map(linear), w)[1000] as number;
    expect(Math.abs(tbDense - tbSparse)).toBeGreaterThan(0.05);
    // A constant signal stays itself at any density.
    expect(
      stepSmooth(
        sparse,
        sparse.map(() => 2),
        w,
        unit,
      ).every((v) => v === 2),
    ).toBe(true);
    expect(
      stepSmooth(
        dense,
        dense.map(() => 2),
        w,
        unit,
      ).every((v) => v === 2),
    ).toBe(true);
  });

  it('states its time constant in steps', () => {
    expect(timeConstant(0, 10)).toBe(0);
    expect(timeConstant(Math.exp(-1), 25)).toBeCloseTo(25, 9);
    expect(stepUnit(100)).toBe(1);
    expect(stepUnit(1_000_000)).toBe(1000);
  });
});
