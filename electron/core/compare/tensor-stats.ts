// The figures of one pair of tensors, accumulated in float64 over chunks of elements. Elements
// that are NaN or infinite (in either tensor) are counted and left out of every sum, so one bad
// value does not turn a layer's norms into NaN; the counts say how many were left out.
import { type ChunkDecoder } from './tensor-values.js';

/** Elements decoded at a time: a scratch buffer of 512 KiB per tensor. */
const CHUNK_ELEMENTS = 64 * 1024;

export interface PairStats {
  /** Positions where both values are finite: what the norms, the difference and the cosine are over. */
  readonly finite: number;
  readonly l2A: number | null;
  readonly l2B: number | null;
  readonly l2Diff: number | null;
  /** l2Diff / l2A; 0 when both are 0 (nothing moved), null when l2A is 0 and l2Diff is not (moved away from all zeros: no ratio). */
  readonly relChange: number | null;
  readonly maxAbsDiff: number | null;
  /** null when either norm is 0 (no direction to compare). */
  readonly cosine: number | null;
  readonly nanA: number;
  readonly nanB: number;
  readonly infA: number;
  readonly infB: number;
}

interface Sums {
  finite: number;
  sumA: number;
  sumB: number;
  sumDiff: number;
  dot: number;
  maxAbsDiff: number;
  nanA: number;
  nanB: number;
  infA: number;
  infB: number;
}

function accumulate(sums: Sums, a: Float64Array, b: Float64Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    // x - x is 0 for finite x and NaN for NaN and ±Infinity: one test for both.
    const xFinite = x - x === 0;
    const yFinite = y - y === 0;
    if (!xFinite) {
      if (x !== x) sums.nanA++;
      else sums.infA++;
    }
    if (!yFinite) {
      if (y !== y) sums.nanB++;
      else sums.infB++;
    }
    if (!xFinite || !yFinite) continue;
    const d = x - y;
    sums.finite++;
    sums.sumA += x * x;
    sums.sumB += y * y;
    sums.sumDiff += d * d;
    sums.dot += x * y;
    const abs = d < 0 ? -d : d;
    if (abs > sums.maxAbsDiff) sums.maxAbsDiff = abs;
  }
}

/** A number JSON can carry: a sum of squares of huge float64 values can overflow to Infinity. */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * The figures gathered a piece at a time: elements added in order, from one whole tensor or from
 * chunks of it read in turn (stream-pair.ts); the sums are the same either way, element by element.
 */
export class PairAccumulator {
  private readonly sums: Sums = { finite: 0, sumA: 0, sumB: 0, sumDiff: 0, dot: 0, maxAbsDiff: 0, nanA: 0, nanB: 0, infA: 0, infB: 0 };
  private readonly bufferA: Float64Array;
  private readonly bufferB: Float64Array;

  /** `elements`: the most added at once, which sizes the scratch buffers (at most CHUNK_ELEMENTS). */
  constructor(elements: number) {
    const chunk = Math.min(CHUNK_ELEMENTS, Math.max(1, elements));
    this.bufferA = new Float64Array(chunk);
    this.bufferB = new Float64Array(chunk);
  }

  /** Adds elements [from, from + count) that a and b decode. */
  add(a: ChunkDecoder, b: ChunkDecoder, from: number, count: number): void {
    const chunk = this.bufferA.length;
    for (let at = from; at < from + count; at += chunk) {
      const n = Math.min(chunk, from + count - at);
      a(at, n, this.bufferA);
      b(at, n, this.bufferB);
      accumulate(this.sums, this.bufferA, this.bufferB, n);
    }
  }

  result(): PairStats {
    const { sums } = this;
    const l2A = Math.sqrt(sums.sumA);
    const l2B = Math.sqrt(sums.sumB);
    const l2Diff = Math.sqrt(sums.sumDiff);
    const relChange = l2A > 0 ? l2Diff / l2A : l2Diff === 0 ? 0 : null;
    // Rounding can take |cos| a hair past 1.
    const cosine = l2A > 0 && l2B > 0 ? Math.max(-1, Math.min(1, sums.dot / (l2A * l2B))) : null;
    return {
      finite: sums.finite,
      l2A: finiteOrNull(l2A),
      l2B: finiteOrNull(l2B),
      l2Diff: finiteOrNull(l2Diff),
      relChange: relChange === null ? null : finiteOrNull(relChange),
      maxAbsDiff: finiteOrNull(sums.maxAbsDiff),
      cosine: Number.isFinite(l2A) && Number.isFinite(l2B) ? cosine : null,
      nanA: sums.nanA,
      nanB: sums.nanB,
      infA: sums.infA,
      infB: sums.infB,
    };
  }
}

export function pairStats(a: ChunkDecoder, b: ChunkDecoder, elements: number): PairStats {
  const accumulator = new PairAccumulator(elements);
  accumulator.add(a, b, 0, elements);
  return accumulator.result();
}
