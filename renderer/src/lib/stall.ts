// When a running training counts as stalled: no progress report for several times its usual
// interval (the median of the recent ones), and never sooner than a floor, since a validation
// pass or a save legitimately pauses reports for a moment. And, on the same measure with a longer
// floor, when a writer that takes no lock of ours counts as done (quietAfter).

export const STALL_FACTOR = 5;
export const STALL_FLOOR_MS = 5000;
const KEEP = 20;

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function stallThreshold(intervals: readonly number[]): number {
  return Math.max(STALL_FLOOR_MS, STALL_FACTOR * (median(intervals) ?? 0));
}

/** The recent intervals with one more, the oldest dropped. */
export function recordInterval(intervals: readonly number[], ms: number): number[] {
  return [...intervals, ms].slice(-KEEP);
}

/**
 * How long a run's log may stay quiet before a writer that takes no lock of ours (another
 * program, a TensorBoard event file) counts as done: five times its usual interval between
 * growths, and never under QUIET_FLOOR_MS (a validation pass or a save pauses a log for a while).
 * Until a second growth tells the interval, FIRST_QUIET_MS: TensorBoard's writers (tf.summary,
 * PyTorch's SummaryWriter) flush every 120 s by default, so an event file grows that seldom.
 */
export const QUIET_FLOOR_MS = 30_000;
export const FIRST_QUIET_MS = 150_000;

export function quietAfter(intervals: readonly number[]): number {
  return intervals.length === 0 ? FIRST_QUIET_MS : Math.max(QUIET_FLOOR_MS, STALL_FACTOR * (median(intervals) ?? 0));
}
