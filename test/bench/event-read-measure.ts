// What the TensorBoard benchmarks share (bench:tensorboard, bench:inplace): event files of
// `tf.summary.scalar` records made by our writer's encoders, and a paired measure of a reader
// against a plain `fs.readFile` of the same bytes, alternating so drift touches both alike.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { EventFileReader } from '../../electron/core/formats/tensorboard/event-file-reader.js';
import { encodeFileVersionEvent, encodeScalarEvent } from '../../electron/core/formats/tensorboard/event-file-writer.js';
import { frameRecord } from '../../electron/core/formats/tensorboard/tfrecord.js';

export const START_WALL = 1_700_000_000;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

/** One run's file: the version record, then `points` scalars of three tags in turn, as a training loop logs them. */
export function eventFile(run: number, points: number): Buffer {
  const records = [frameRecord(encodeFileVersionEvent(START_WALL))];
  const tags = ['loss', 'accuracy', 'learning_rate'];
  for (let i = 0; i < points; i += 1) records.push(frameRecord(encodeScalarEvent(i, START_WALL + i * 0.1, [[tags[i % 3] as string, Math.sin(run + i)]])));
  return Buffer.concat(records);
}

/** Every file read whole by the event file reader; returns the points read. */
export async function readAllOurs(files: readonly string[]): Promise<number> {
  let points = 0;
  for (const file of files) points += (await new EventFileReader(file).readNew()).points.length;
  return points;
}

/** Every file read whole by fs.readFile; returns the bytes read. */
export async function readAllBytes(files: readonly string[]): Promise<number> {
  let bytes = 0;
  for (const file of files) bytes += (await readFile(file)).length;
  return bytes;
}

export interface Paired {
  /** Median times of each side, ms. */
  readonly ours: number;
  readonly baseline: number;
  /** The median of each repeat's own ratio (baseline time / our time): the machine drifts less within a repeat than across them. */
  readonly ratio: number;
  /** What the last repeat of each side returned (points, bytes). */
  readonly oursResult: number;
  readonly baselineResult: number;
}

/** Runs `ours` then `baseline`, `repeats` times after one warm-up of each. */
export async function paired(repeats: number, ours: () => Promise<number>, baseline: () => Promise<number>): Promise<Paired> {
  await baseline();
  await ours();
  const times = { ours: [] as number[], baseline: [] as number[] };
  const ratios: number[] = [];
  let oursResult = 0;
  let baselineResult = 0;
  for (let i = 0; i < repeats; i += 1) {
    let t = performance.now();
    oursResult = await ours();
    times.ours.push(performance.now() - t);
    t = performance.now();
    baselineResult = await baseline();
    times.baseline.push(performance.now() - t);
    ratios.push((times.baseline.at(-1) as number) / (times.ours.at(-1) as number));
  }
  return { ours: median(times.ours), baseline: median(times.baseline), ratio: median(ratios), oursResult, baselineResult };
}
