// The figures of one tensor's values, computed as its values stream past: moments in one pass,
// then quantiles, exactly (every finite value kept and sorted) up to EXACT_QUANTILE_LIMIT values,
// else from a fine histogram whose error is stated; and a histogram over bins given by the caller
// (shared by every checkpoint of a run, so the stacked histograms line up).

/** TensorBoard's distribution bands: the median, ±1, ±1.5 and ±2 standard deviations of a normal distribution, and the extremes. */
export const QUANTILE_LEVELS = [0, 0.07, 0.16, 0.31, 0.5, 0.69, 0.84, 0.93, 1] as const;
/** Tensors with at most this many values get exact quantiles (their finite values sorted: 32 MB at most). */
export const EXACT_QUANTILE_LIMIT = 1 << 22;
/** Larger ones are read once more into this many bins between min and max; a quantile is then off by at most one bin's width. */
export const FINE_BINS = 1 << 16;

/** NaN and ±Inf are counted apart; every other figure is of the finite values. */
export interface Moments {
  readonly count: number;
  readonly finite: number;
  readonly nan: number;
  readonly inf: number;
  /** Null when no value is finite. */
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  /** Population standard deviation. */
  readonly std: number | null;
}

export class MomentsAccumulator {
  private count = 0;
  private finite = 0;
  private nan = 0;
  private inf = 0;
  private min = Infinity;
  private max = -Infinity;
  private mean = 0;
  private m2 = 0;

  add(values: Float64Array, length: number): void {
    this.count += length;
    for (let i = 0; i < length; i += 1) {
      const v = values[i] as number;
      if (Number.isNaN(v)) this.nan += 1;
      else if (v === Infinity || v === -Infinity) this.inf += 1;
      else {
        // Welford: stable where sum and sum of squares cancel (weights near a large mean).
        this.finite += 1;
        const delta = v - this.mean;
        this.mean += delta / this.finite;
        this.m2 += delta * (v - this.mean);
        if (v < this.min) this.min = v;
        if (v > this.max) this.max = v;
      }
    }
  }

  result(): Moments {
    const any = this.finite > 0;
    return {
      count: this.count,
      finite: this.finite,
      nan: this.nan,
      inf: this.inf,
      min: any ? this.min : null,
      max: any ? this.max : null,
      mean: any ? this.mean : null,
      std: any ? Math.sqrt(this.m2 / this.finite) : null,
    };
  }
}

/** Every finite value, for exact quantiles. */
export class FiniteValues {
  private values: Float64Array;
  private length = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }

  add(values: Float64Array, length: number): void {
    for (let i = 0; i < length; i += 1) {
      const v = values[i] as number;
      if (Number.isFinite(v)) this.values[this.length++] = v;
    }
  }

  /** Linear interpolation between the closest ranks (numpy's default): rank q·(n−1). */
  quantiles(levels: readonly number[]): number[] | null {
    if (this.length === 0) return null;
    const sorted = this.values.subarray(0, this.length).sort();
    return levels.map((q) => {
      const rank = q * (sorted.length - 1);
      const below = Math.floor(rank);
      const above = Math.min(below + 1, sorted.length - 1);
      const lower = sorted[below] as number;
      return lower + (rank - below) * ((sorted[above] as number) - lower);
    });
  }
}

/** Counts of finite values in `bins` equal bins over [lo, hi]; values outside fall in the end bins. */
export class BinCounter {
  readonly counts: number[];
  private readonly scale: number;

  constructor(
    readonly lo: number,
    readonly hi: number,
    readonly bins: number,
  ) {
    this.counts = new Array<number>(bins).fill(0);
    this.scale = hi > lo ? bins / (hi - lo) : 0;
  }

  add(values: Float64Array, length: number): void {
    const last = this.bins - 1;
    for (let i = 0; i < length; i += 1) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) continue;
      const bin = Math.floor((v - this.lo) * this.scale);
      const index = bin < 0 ? 0 : bin > last ? last : bin;
      this.counts[index] = (this.counts[index] as number) + 1;
    }
  }

  /**
   * Quantiles from the counts, with linear interpolation inside a bin: each is within one bin's
   * width, (hi − lo) / bins, of the exact value at rank q·(n−1).
   */
  quantiles(levels: readonly number[], exactMin: number, exactMax: number): number[] {
    const total = this.counts.reduce((sum, c) => sum + c, 0);
    const width = (this.hi - this.lo) / this.bins;
    return levels.map((q) => {
      if (q <= 0) return exactMin;
      if (q >= 1) return exactMax;
      const rank = q * (total - 1);
      let seen = 0;
      for (let bin = 0; bin < this.bins; bin += 1) {
        const count = this.counts[bin] as number;
        if (seen + count > rank) return Math.min(exactMax, Math.max(exactMin, this.lo + width * (bin + (rank - seen + 0.5) / count)));
        seen += count;
      }
      return exactMax;
    });
  }
}

/** Bins over [lo, hi] that hold every value of the run: a single value gets a bin of width 1 around it. */
export function sharedRange(mins: readonly (number | null)[], maxes: readonly (number | null)[]): { lo: number; hi: number } | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of mins) if (m !== null && m < lo) lo = m;
  for (const m of maxes) if (m !== null && m > hi) hi = m;
  if (lo > hi) return null;
  return lo === hi ? { lo: lo - 0.5, hi: hi + 0.5 } : { lo, hi };
}
