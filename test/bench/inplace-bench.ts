// npm run bench:inplace — issue 16's benchmark of a folder opened in place: 1,000 TensorBoard runs
// of 1,000 scalar points each (the records `tf.summary.scalar` writes, made by our writer's
// encoders) and 10,000 TensorFlow checkpoint groups (one real group written by our bundle writer,
// hard-linked under 10,000 prefixes, and a state file naming them all), measured as the app meets it:
//
//   - opened and listed (runs, checkpoints, latest) through the StudioApi, in a fresh process each
//     time (no warm JIT), target ≤ 2 s;
//   - every event file's scalars read the way the catalog reads a run (RunMetrics over the run's
//     files), against fs.readFile of the same bytes, paired and alternating (event-read-measure.ts,
//     shared with bench:tensorboard), target ≥ 0.25×;
//   - an event record appended to a run's file, until it reaches the Studio's listeners as a
//     metrics:appended record (the Studio watching the folder), target p95 ≤ 200 ms;
//   - for scale, not a target of the issue: a new group saved into the folder of 10,000 (data, then
//     the index) until the Studio announces it usable.
//
//   BENCH_RUNS, BENCH_POINTS, BENCH_GROUPS   the folder's size (1000, 1000, 10000)
//   BENCH_REPEATS                            paired passes of the read measure (7), opens (5)
//   BENCH_APPENDS                            appended records timed (100)
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, link } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { StudioApi } from '../../electron/contract.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { dataFileName, indexFileName } from '../../electron/core/formats/tf/bundle-files.js';
import { writeCheckpointStateFile, writeTfBundle } from '../../electron/core/formats/tf/tf-writer.js';
import { encodeScalarEvent } from '../../electron/core/formats/tensorboard/event-file-writer.js';
import { eventFileName } from '../../electron/core/formats/tensorboard/event-file-names.js';
import { RunMetrics } from '../../electron/core/formats/tensorboard/run-metrics.js';
import { frameRecord } from '../../electron/core/formats/tensorboard/tfrecord.js';
import { START_WALL, eventFile, median, paired, percentile, readAllBytes, readAllOurs } from './event-read-measure.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 1000);
const POINTS = Number(process.env['BENCH_POINTS'] ?? 1000);
const GROUPS = Number(process.env['BENCH_GROUPS'] ?? 10_000);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 7);
const OPENS = Number(process.env['BENCH_OPENS'] ?? 5);
const APPENDS = Number(process.env['BENCH_APPENDS'] ?? 100);
const NEW_GROUPS = 5;
const STEP_EVERY = 100;

const runName = (run: number): string => `tb/run-${String(run).padStart(4, '0')}`;
const prefixOf = (step: number): string => `model.ckpt-${step}`;

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/** The folder: tb/run-NNNN/ with one event file each, tf/ with the groups and their state file. */
async function buildFolder(root: string): Promise<{ eventFiles: string[] }> {
  const eventFiles: string[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const dir = path.join(root, ...runName(run).split('/'));
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, eventFileName(START_WALL, 1, 'bench', 1000 + run));
    writeFileSync(file, eventFile(run, POINTS));
    eventFiles.push(file);
  }
  const template = path.join(root, '..', 'template');
  mkdirSync(template);
  const kernel = new Float32Array(64 * 10).map((_, i) => Math.sin(i));
  await writeTfBundle(template, 'model', [{ name: 'dense/kernel', dtype: 'F32', shape: [64, 10], data: new Uint8Array(kernel.buffer) }], { step: 0 });
  const tf = path.join(root, 'tf');
  mkdirSync(tf);
  const steps = Array.from({ length: GROUPS }, (_, i) => (i + 1) * STEP_EVERY);
  for (const step of steps) {
    linkSync(path.join(template, dataFileName('model', 0, 1)), path.join(tf, dataFileName(prefixOf(step), 0, 1)));
    linkSync(path.join(template, indexFileName('model')), path.join(tf, indexFileName(prefixOf(step))));
  }
  await writeCheckpointStateFile(tf, {
    modelCheckpointPath: prefixOf(steps.at(-1) ?? 0),
    allModelCheckpointPaths: steps.map(prefixOf),
    allModelCheckpointTimestamps: steps.map((step) => START_WALL + step / 10),
    lastPreservedTimestamp: START_WALL,
  });
  return { eventFiles };
}

/** In a fresh process: opens the folder through the StudioApi and lists it, OPENS times; prints the times. */
async function openProbe(root: string): Promise<void> {
  const opens: number[] = [];
  let listed = { runs: 0, checkpoints: 0, latest: '' };
  for (let i = 0; i < OPENS; i += 1) {
    const studio = new Studio();
    const started = performance.now();
    await studio.api.openWorkspace({ path: root });
    const runs = await studio.api.listRuns();
    const checkpoints = await studio.api.listCheckpoints();
    const latest = await studio.api.latest({ run: 'tf' });
    opens.push(performance.now() - started);
    listed = { runs: runs.length, checkpoints: checkpoints.length, latest: latest.id };
    await studio.close();
  }
  process.stdout.write(JSON.stringify({ opens, ...listed }));
}

async function benchOpen(root: string): Promise<string> {
  const script = fileURLToPath(import.meta.url);
  const probe = JSON.parse(execFileSync(process.execPath, [script, '--open-probe', root], { encoding: 'utf8', maxBuffer: 1 << 20 })) as {
    opens: number[];
    runs: number;
    checkpoints: number;
    latest: string;
  };
  const expected = `tf/${prefixOf(GROUPS * STEP_EVERY)}`;
  if (probe.runs !== RUNS + 1 || probe.checkpoints !== GROUPS || probe.latest !== expected)
    throw new Error(`listed ${probe.runs} runs, ${probe.checkpoints} checkpoints, latest ${probe.latest}: not ${RUNS + 1}, ${GROUPS}, ${expected}`);
  const typical = median(probe.opens);
  return `open + list (${probe.runs} runs, ${probe.checkpoints} checkpoints, latest ${probe.latest}), fresh process: median ${typical.toFixed(0)} ms over ${probe.opens.length} opens (all: ${probe.opens.map((t) => t.toFixed(0)).join(', ')} ms); target ≤ 2000 ms: ${verdict(typical <= 2000)}`;
}

/** Each run's file read whole as the catalog reads a run (a fresh RunMetrics per run, its points merged into series); returns the points. */
async function readRunsAsCatalog(eventFiles: readonly string[]): Promise<number> {
  let points = 0;
  for (const file of eventFiles) {
    const metrics = new RunMetrics();
    await metrics.update([{ file, folder: '' }]);
    for (const series of metrics.series) points += series.points.length;
  }
  return points;
}

async function benchReading(eventFiles: readonly string[]): Promise<string[]> {
  const asCatalog = await paired(
    REPEATS,
    () => readRunsAsCatalog(eventFiles),
    () => readAllBytes(eventFiles),
  );
  const reader = await paired(
    REPEATS,
    () => readAllOurs(eventFiles),
    () => readAllBytes(eventFiles),
  );
  if (asCatalog.oursResult !== RUNS * POINTS || reader.oursResult !== RUNS * POINTS)
    throw new Error(`read ${asCatalog.oursResult} points, not ${RUNS * POINTS}`);
  const mb = asCatalog.baselineResult / 1e6;
  const rate = (ms: number): string => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
  return [
    `event files: ${eventFiles.length} files, ${POINTS} points each, ${mb.toFixed(1)} MB; medians of ${REPEATS} paired repeats`,
    `  runs read as the catalog reads them (RunMetrics)  ${asCatalog.ours.toFixed(0)} ms (${rate(asCatalog.ours)})  fs.readFile ${asCatalog.baseline.toFixed(0)} ms (${rate(asCatalog.baseline)})  ratio ${asCatalog.ratio.toFixed(2)}; target ≥ 0.25: ${verdict(asCatalog.ratio >= 0.25)}`,
    `  files read by EventFileReader alone               ${reader.ours.toFixed(0)} ms (${rate(reader.ours)})  fs.readFile ${reader.baseline.toFixed(0)} ms (${rate(reader.baseline)})  ratio ${reader.ratio.toFixed(2)}`,
  ];
}

/** Resolves when `accept` takes an event of the kind `on` subscribes to. */
function waitFor(subscribe: (listener: () => void) => () => void, accept: () => boolean): Promise<number> {
  return new Promise((resolve) => {
    const off = subscribe(() => {
      if (!accept()) return;
      off();
      resolve(performance.now());
    });
  });
}

async function benchLive(root: string, eventFiles: readonly string[]): Promise<string[]> {
  const studio = new Studio({ watch: true });
  const api: StudioApi = studio.api;
  await api.openWorkspace({ path: root });
  try {
    const latencies: number[] = [];
    for (let i = 0; i < APPENDS; i += 1) {
      // A different run each time, spread over the folder.
      const run = (i * 37) % RUNS;
      const step = POINTS + i;
      let seen = false;
      const arrived = waitFor(
        (listener) =>
          api.on('metrics:appended', (payload) => {
            seen ||= payload.run === runName(run) && payload.records.some((r) => r['step'] === step);
            listener();
          }),
        () => seen,
      );
      const sent = performance.now();
      await appendFile(eventFiles[run] as string, frameRecord(encodeScalarEvent(step, START_WALL + step, [['loss', i]])));
      latencies.push((await arrived) - sent);
    }
    const groups: number[] = [];
    const tf = path.join(root, 'tf');
    const template = path.join(root, '..', 'template');
    for (let i = 0; i < NEW_GROUPS; i += 1) {
      const prefix = prefixOf((GROUPS + 1 + i) * STEP_EVERY);
      let seen = false;
      const usable = waitFor(
        (listener) => {
          const offAdded = api.on('catalog:added', (c) => {
            seen ||= c.id === `tf/${prefix}` && c.status === 'unverified';
            listener();
          });
          const offChanged = api.on('catalog:changed', (c) => {
            seen ||= c.id === `tf/${prefix}` && c.status === 'unverified';
            listener();
          });
          return () => {
            offAdded();
            offChanged();
          };
        },
        () => seen,
      );
      await link(path.join(template, dataFileName('model', 0, 1)), path.join(tf, dataFileName(prefix, 0, 1)));
      const sent = performance.now();
      await link(path.join(template, indexFileName('model')), path.join(tf, indexFileName(prefix)));
      groups.push((await usable) - sent);
    }
    const p95 = percentile(latencies, 0.95);
    return [
      `append → metrics:appended (Studio watching), ${APPENDS} appends over ${Math.min(RUNS, APPENDS)} runs: p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms; target p95 ≤ 200 ms: ${verdict(p95 <= 200)}`,
      `new group's index → catalog event (a folder of ${GROUPS} groups), ${NEW_GROUPS} saves: ${groups.map((t) => t.toFixed(0)).join(', ')} ms (median ${median(groups).toFixed(0)}); no target`,
    ];
  } finally {
    await studio.close();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--open-probe') return openProbe(process.argv[3] as string);
  const base = mkdtempSync(path.join(os.tmpdir(), 'inplace-bench-'));
  try {
    const root = path.join(base, 'folder');
    mkdirSync(root);
    const made = performance.now();
    const { eventFiles } = await buildFolder(root);
    console.log(
      `in-place benchmark: node ${process.version}, ${os.cpus().length} cores; ${RUNS} TensorBoard runs × ${POINTS} points, ${GROUPS} TensorFlow groups (made in ${((performance.now() - made) / 1000).toFixed(1)} s)`,
    );
    console.log(await benchOpen(root));
    for (const line of await benchReading(eventFiles)) console.log(line);
    for (const line of await benchLive(root, eventFiles)) console.log(line);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
