// npm run bench:tensorboard — the event file reader against a plain `fs.readFile` of the same
// bytes, as issue 16's benchmark asks: a folder of TensorBoard runs, each one event file of 1,000
// scalar points (the records `tf.summary.scalar` writes, made by our writer's encoder), read whole
// by each, one file after another, alternating so drift touches both alike. Prints the speed
// ratio (ours / readFile; the target is ≥ 0.25), and the time from an append to its points being
// returned by a reader that an fs.watch wakes (the reader's share of "an appended record reaches
// the Studio's listeners in ≤ 200 ms p95").
//
//   BENCH_RUNS=<n>      runs (files) in the folder (default 1000)
//   BENCH_POINTS=<n>    points per file (default 1000)
//   BENCH_REPEATS=<n>   paired passes (default 7; medians are quoted)
import { mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventFileReader } from '../../electron/core/formats/tensorboard/event-file-reader.js';
import { encodeFileVersionEvent, encodeScalarEvent } from '../../electron/core/formats/tensorboard/event-file-writer.js';
import { frameRecord } from '../../electron/core/formats/tensorboard/tfrecord.js';
import { eventFile, paired, percentile, readAllBytes, readAllOurs } from './event-read-measure.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 1000);
const POINTS = Number(process.env['BENCH_POINTS'] ?? 1000);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 7);
const APPENDS = 200;

async function throughput(files: readonly string[]): Promise<void> {
  const measured = await paired(
    REPEATS,
    () => readAllOurs(files),
    () => readAllBytes(files),
  );
  const points = measured.oursResult;
  const bytes = measured.baselineResult;
  if (points !== RUNS * POINTS) throw new Error(`read ${points} points, not ${RUNS * POINTS}`);
  const [o, b] = [measured.ours, measured.baseline];
  console.log(`${RUNS} event files, ${POINTS} points each, ${(bytes / 1e6).toFixed(1)} MB`);
  console.log(`  fs.readFile:       ${b.toFixed(0)} ms (${(bytes / 1e6 / (b / 1000)).toFixed(0)} MB/s)`);
  console.log(`  EventFileReader:   ${o.toFixed(0)} ms (${(bytes / 1e6 / (o / 1000)).toFixed(0)} MB/s, ${((points / o) * 1000).toFixed(0)} points/s)`);
  console.log(`  speed ratio ours / readFile: ${measured.ratio.toFixed(2)} (median of ${REPEATS} paired repeats; target ≥ 0.25)`);
}

/** Appends one record at a time to a file an fs.watch looks at; each change wakes a readNew. */
async function appendLatency(dir: string): Promise<void> {
  const file = path.join(dir, 'events.out.tfevents.1700000000.live');
  writeFileSync(file, frameRecord(encodeFileVersionEvent(1_700_000_000)));
  const reader = new EventFileReader(file);
  await reader.readNew();
  const latencies: number[] = [];
  let sentAt = 0;
  let waiting: (() => void) | null = null;
  const watcher = watch(file, () => {
    void reader.readNew().then((read) => {
      if (read.points.length === 0 || !waiting) return;
      latencies.push(performance.now() - sentAt);
      waiting();
    });
  });
  try {
    for (let i = 0; i < APPENDS; i += 1) {
      const arrived = new Promise<void>((resolve) => (waiting = resolve));
      sentAt = performance.now();
      await appendFile(file, frameRecord(encodeScalarEvent(i, 1_700_000_000 + i, [['loss', i]])));
      await arrived;
      waiting = null;
    }
  } finally {
    watcher.close();
  }
  console.log(
    `append → points returned (fs.watch + readNew), ${APPENDS} appends: p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p95 ${percentile(latencies, 0.95).toFixed(2)} ms`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tensorboard-bench-'));
  try {
    const files: string[] = [];
    const made = performance.now();
    for (let run = 0; run < RUNS; run += 1) {
      const file = path.join(dir, `run-${String(run).padStart(4, '0')}.tfevents`);
      writeFileSync(file, eventFile(run, POINTS));
      files.push(file);
    }
    console.log(`made ${RUNS} files in ${((performance.now() - made) / 1000).toFixed(1)} s`);
    await throughput(files);
    await appendLatency(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
