// A Web Worker that smooths long curves off the page's thread (smoothing.ts, the same code).
// Values cross as Float64Arrays (transferred, not copied), a gap as NaN.
import { type SmoothingMode, smooth } from './smoothing';

export interface SmoothRequest {
  readonly id: number;
  readonly mode: SmoothingMode;
  readonly steps: Float64Array;
  readonly values: Float64Array;
  readonly weight: number;
  readonly unit: number;
}

export interface SmoothAnswer {
  readonly id: number;
  readonly smoothed: Float64Array;
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<SmoothRequest>) => void) | null;
  postMessage(message: SmoothAnswer, transfer: Transferable[]): void;
};

scope.onmessage = (event) => {
  const { id, mode, steps, values, weight, unit } = event.data;
  const gaps = Array.from(values, (v) => (Number.isNaN(v) ? null : v));
  const out = smooth(mode, Array.from(steps), gaps, weight, unit);
  const smoothed = Float64Array.from(out, (v) => (v === null ? NaN : v));
  scope.postMessage({ id, smoothed }, [smoothed.buffer]);
};
