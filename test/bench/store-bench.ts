// npm run bench:store — the store against plain `fs` on the same bytes, side by side in one run.
// Prints ratios (ours ÷ baseline throughput), peak memory added by a save, the time to build
// the catalog of 10,000 checkpoints, and how soon a new checkpoint reaches catalog listeners; then
// the catalog at the scale (100,000 checkpoints in 1,000 runs) with and without its index,
// and what one change costs at 1,000 and at 100,000 checkpoints.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Catalog } from '../../electron/core/checkpoint/catalog.js';
import { NO_IN_PLACE_LAYOUTS } from '../../electron/core/checkpoint/in-place.js';
import { checkpointDirName } from '../../electron/core/checkpoint/layout.js';
import { loadCheckpoint } from '../../electron/core/checkpoint/reader.js';
import { storedForeignParts } from '../../electron/core/formats/stored-foreign.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import type { TrainingState } from '../../electron/core/checkpoint/writer.js';
import { makeState } from './bench-state.js';
import { makeStoreWorkspace, storeRunName } from './store-workspace.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 9);
const CATALOG_SIZE = Number(process.env.BENCH_CATALOG_SIZE ?? 10_000);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function stateBytes(state: TrainingState): number {
  return [...state.model, ...state.optimizer].reduce((s, t) => s + t.data.byteLength, 0);
}

/** The plain baseline: the same tensors written to two files with write + fsync, nothing else. */
async function plainWrite(dir: string, state: TrainingState): Promise<void> {
  for (const [name, tensors] of [
    ['model.bin', state.model],
    ['optimizer.bin', state.optimizer],
  ] as const) {
    const handle = await open(path.join(dir, name), 'w');
    for (const t of tensors) await handle.write(t.data);
    await handle.sync();
    await handle.close();
  }
}

async function plainRead(dir: string): Promise<number> {
  const a = await readFile(path.join(dir, 'model.bin'));
  const b = await readFile(path.join(dir, 'optimizer.bin'));
  return a.byteLength + b.byteLength;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function benchSaveLoad(params: number): Promise<string[]> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
  try {
    const store = await CheckpointStore.open(path.join(root, 'ws'));
    const writer = await store.createRun('bench', { parent: null, config: {} });
    const state = makeState(params, 0);
    const bytes = stateBytes(state);
    const ours: number[] = [];
    const plain: number[] = [];
    const oursLoad: number[] = [];
    const plainLoad: number[] = [];
    for (let i = 0; i < REPEATS; i += 1) {
      const plainDir = mkdtempSync(path.join(root, 'plain-'));
      let written = '';
      const saveOurs = async (): Promise<void> => {
        ours.push(await time(async () => (written = (await writer.save({ ...state, step: i + 1 })).dir)));
      };
      const savePlain = async (): Promise<void> => {
        plain.push(await time(() => plainWrite(plainDir, state)));
      };
      // Alternate which goes first, so the disk's write-back of one never favours the other.
      if (i % 2 === 0) {
        await savePlain();
        await saveOurs();
        plainLoad.push(await time(() => plainRead(plainDir)));
        oursLoad.push(await time(() => loadCheckpoint(written)));
      } else {
        await saveOurs();
        await savePlain();
        oursLoad.push(await time(() => loadCheckpoint(written)));
        plainLoad.push(await time(() => plainRead(plainDir)));
      }
      rmSync(plainDir, { recursive: true, force: true });
      rmSync(written, { recursive: true, force: true });
    }
    await writer.close();
    const mb = bytes / 1e6;
    if (process.env.BENCH_VERBOSE)
      console.log(`  runs (ms): ours save ${ours.map((t) => t.toFixed(0)).join(' ')} | plain save ${plain.map((t) => t.toFixed(0)).join(' ')}`);
    // The ratio is the median of each repeat's own ratio: a slow spell of this shared disk hits the
    // two runs of one repeat alike, where it would skew one side's median of times.
    const row = (label: string, o: number[], p: number[]): string =>
      `${label.padEnd(26)} ours ${(mb / (median(o) / 1000)).toFixed(0).padStart(5)} MB/s  plain fs ${(mb / (median(p) / 1000)).toFixed(0).padStart(5)} MB/s  ratio ${median(o.map((t, i) => (p[i] as number) / t)).toFixed(2)}x (paired)`;
    return [row(`save ${params / 1e6}M params (${mb.toFixed(0)} MB)`, ours, plain), row(`load ${params / 1e6}M params (verified)`, oursLoad, plainLoad)];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Runs in a child process so its peak RSS is its own: state allocated, then one save. */
async function memoryProbe(params: number): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'bench-mem-'));
  const store = await CheckpointStore.open(path.join(root, 'ws'));
  const writer = await store.createRun('bench', { parent: null, config: {} });
  const state = makeState(params, 1);
  global.gc?.();
  const before = process.resourceUsage().maxRSS * 1024;
  await writer.save(state);
  const after = process.resourceUsage().maxRSS * 1024;
  await writer.close();
  rmSync(root, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ state: stateBytes(state), before, after }));
}

function benchMemory(params: number): string {
  const script = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, ['--expose-gc', script, '--memory-probe', String(params)], { encoding: 'utf8' });
  const { state, before, after } = JSON.parse(out) as { state: number; before: number; after: number };
  const added = Math.max(0, after - before);
  return `peak RSS ${params / 1e6}M params         state ${(state / 1e6).toFixed(0)} MB, peak RSS before save ${(before / 1e6).toFixed(0)} MB, after ${(after / 1e6).toFixed(0)} MB: a save added ${(added / 1e6).toFixed(0)} MB = ${(added / state).toFixed(2)}x the state (target <= 1.00x)`;
}

async function buildLargeWorkspace(root: string, count: number): Promise<void> {
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('big', { parent: null, config: {} });
  const template = (await writer.save(makeState(1000, 0))).dir;
  await writer.close();
  const manifestText = readFileSync(path.join(template, 'manifest.json'), 'utf8');
  for (let step = 1; step < count; step += 1) {
    // Copies of one real checkpoint; only the step differs, as it would on disk.
    const dir = path.join(root, 'big', checkpointDirName(step));
    cpSync(template, dir, { recursive: true });
    writeFileSync(path.join(dir, 'manifest.json'), manifestText.replace('"step": 0,', `"step": ${step},`));
  }
}

async function benchCatalog(): Promise<string[]> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'bench-catalog-'));
  try {
    await buildLargeWorkspace(root, CATALOG_SIZE);
    // A fresh process, as when the app or the CLI starts: no warm JIT, no heap left over from
    // the gigabytes the save benchmarks moved.
    const script = fileURLToPath(import.meta.url);
    const probe = JSON.parse(execFileSync(process.execPath, [script, '--catalog-probe', root], { encoding: 'utf8' })) as { opens: number[]; count: number };
    const { opens, count } = probe;
    const store = await CheckpointStore.open(root);
    const watcher = await store.watch();
    const writer = await store.openRunWriter('big');
    const latencies: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      let renamedAt = 0n;
      const step = CATALOG_SIZE + i;
      const seen = new Promise<bigint>((resolve) => {
        const off = store.catalog.subscribe((event) => {
          if (event.type === 'added' && event.checkpoint.step === step) {
            off();
            resolve(process.hrtime.bigint());
          }
        });
      });
      await writer.save(makeState(1000, step), {
        afterStep: (s) => {
          if (s === 'renamed') renamedAt = process.hrtime.bigint();
        },
      });
      latencies.push(Number((await seen) - renamedAt) / 1e6);
    }
    await writer.close();
    await watcher.close();
    return [
      `catalog of ${count} checkpoints  median ${median(opens).toFixed(0)} ms over ${opens.length} opens in a fresh process (first ${(opens[0] ?? 0).toFixed(0)} ms, all: ${opens.map((t) => t.toFixed(0)).join(', ')} ms; target <= 500 ms)`,
      `new checkpoint -> listeners    median ${median(latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms after its rename (10 saves into the ${count}-checkpoint run; target <= 300 ms)`,
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The CPU time of this process's main thread alone, in ms, where Linux tells it (/proc), else null:
 * on 2 cores under load the wall clock says little, and the main thread's time is what a quiet
 * machine's wall clock comes to once the stat worker keeps up.
 */
function mainThreadCpuMs(): number | null {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime, fields 14 and 15 of the line (11 and 12 after the command), in clock ticks of 10 ms.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

/** One open and listing of the workspace in this (fresh) process, with or without the index; prints its time. */
async function scaleProbe(root: string, mode: string): Promise<void> {
  const mainBefore = mainThreadCpuMs();
  const start = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const catalog = await Catalog.open(root, storedForeignParts, NO_IN_PLACE_LAYOUTS, { index: mode === 'index' });
  const count = catalog.list().length;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  // Every thread's (the stat worker's too): what the open costs, which a loaded machine's wall clock hides.
  const used = process.cpuUsage(cpuBefore);
  const cpuMs = (used.user + used.system) / 1000;
  const mainAfter = mainThreadCpuMs();
  const mainCpuMs = mainBefore === null || mainAfter === null ? null : mainAfter - mainBefore;
  const heapMB = process.memoryUsage().heapUsed / 1e6;
  // What an open leaves for after its listing (the first indexed open writes the index; each open checks its manifests): timed apart.
  await catalog.settled();
  const settledMs = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(JSON.stringify({ ms, cpuMs, mainCpuMs, heapMB, count, settledMs }));
}

interface FreshOpen {
  readonly ms: number;
  /** Every thread's. */
  readonly cpuMs: number;
  /** The main thread's alone, where the system tells it. */
  readonly mainCpuMs: number | null;
  /** The JS heap in use once the listing is made. */
  readonly heapMB: number;
  /** From the start to when what the open left for after its listing is done (the manifests checked, the index written). */
  readonly settledMs: number;
  readonly count: number;
}

function freshOpen(root: string, mode: 'index' | 'plain'): FreshOpen {
  const script = fileURLToPath(import.meta.url);
  return JSON.parse(execFileSync(process.execPath, [script, '--scale-probe', root, mode], { encoding: 'utf8' })) as FreshOpen;
}

/** The main thread's CPU time of some opens, as a median, or why it is not known. */
function mainCpu(opens: readonly FreshOpen[]): string {
  const times = opens.map((o) => o.mainCpuMs).filter((t): t is number => t !== null);
  return times.length === 0 ? 'not known on this system' : `median ${median(times).toFixed(0)} ms (all: ${times.join(', ')} ms; 10 ms ticks)`;
}

/**
 * What one change costs the catalog (a checkpoint added, its manifest rewritten, then removed, each
 * re-read as the watcher asks), with a listener subscribed as the app is: median ms per change.
 */
async function perChangeCost(root: string): Promise<{ add: number; change: number; remove: number }> {
  const catalog = await Catalog.open(root, storedForeignParts, NO_IN_PLACE_LAYOUTS);
  let events = 0;
  catalog.subscribe(() => (events += 1));
  const run = storeRunName(0);
  const template = path.join(root, run, checkpointDirName(1));
  const times = { add: [] as number[], change: [] as number[], remove: [] as number[] };
  for (let i = 0; i < 20; i += 1) {
    const name = checkpointDirName(1_000_000 + i);
    const dir = path.join(root, run, name);
    cpSync(template, dir, { recursive: true });
    times.add.push(await time(() => catalog.refreshCheckpoint(run, name)));
    const manifest = path.join(dir, 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"step": 1,', `"step": ${1_000_000 + i},`));
    times.change.push(await time(() => catalog.refreshCheckpoint(run, name)));
    rmSync(dir, { recursive: true });
    times.remove.push(await time(() => catalog.refreshCheckpoint(run, name)));
  }
  if (events < 60) throw new Error(`only ${events} catalog events for 60 changes`);
  return { add: median(times.add), change: median(times.change), remove: median(times.remove) };
}

/** How long to wait after making files before the index may vouch for them (catalog-index.ts). */
const INDEX_SETTLE_MS = 3100;

/** The scale: RUNS runs of PER_RUN checkpoints, opened fresh with and without the index; the cost of one change at that scale and at 1,000. */
async function benchCatalogScale(): Promise<string[]> {
  const runs = Number(process.env.BENCH_SCALE_RUNS ?? 1000);
  const perRun = Number(process.env.BENCH_SCALE_PER_RUN ?? 100);
  const base = mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  try {
    const big = path.join(base, 'big');
    const small = path.join(base, 'small');
    const made = await time(async () => {
      await makeStoreWorkspace(big, { runs, perRun });
      await makeStoreWorkspace(small, { runs: 10, perRun: 100 });
    });
    await new Promise((resolve) => setTimeout(resolve, INDEX_SETTLE_MS));
    const plain = freshOpen(big, 'plain');
    const first = freshOpen(big, 'index');
    const opens = [0, 1, 2, 3, 4].map(() => freshOpen(big, 'index'));
    const indexed = opens.map((o) => o.ms);
    const total = runs * perRun;
    if (plain.count !== total || first.count !== total) throw new Error(`listed ${plain.count} and ${first.count} of ${total} checkpoints`);
    // The index of the small workspace too, so that both per-change figures start from an indexed open.
    freshOpen(small, 'index');
    const smallCost = await perChangeCost(small);
    const bigCost = await perChangeCost(big);
    const row = (label: string, cost: { add: number; change: number; remove: number }): string =>
      `  ${label.padEnd(20)} add ${cost.add.toFixed(1)} ms, manifest rewritten ${cost.change.toFixed(1)} ms, removed ${cost.remove.toFixed(1)} ms (medians of 20)`;
    return [
      `catalog at scale: ${total} checkpoints in ${runs} runs (made in ${(made / 1000).toFixed(0)} s), a fresh process each open`,
      `  open+list, no index (every manifest read)  ${plain.ms.toFixed(0)} ms`,
      `  open+list, index written by this open      ${first.ms.toFixed(0)} ms`,
      `  open+list from the index                   median ${median(indexed).toFixed(0)} ms (all: ${indexed.map((t) => t.toFixed(0)).join(', ')} ms; target <= 500 ms), ${(plain.ms / median(indexed)).toFixed(1)}x faster than no index`,
      `    CPU time of those opens, all threads      median ${median(opens.map((o) => o.cpuMs)).toFixed(0)} ms (no index: ${plain.cpuMs.toFixed(0)} ms; ${os.loadavg()[0]?.toFixed(1)} load average when done)`,
      `    main thread's CPU time of those opens     ${mainCpu(opens)}`,
      `    JS heap once listed                       median ${median(opens.map((o) => o.heapMB)).toFixed(0)} MB (no index: ${plain.heapMB.toFixed(0)} MB)`,
      `    settled (manifests checked after listing) median ${median(opens.map((o) => o.settledMs)).toFixed(0)} ms from the start (all: ${opens.map((o) => o.settledMs.toFixed(0)).join(', ')} ms)`,
      `per change (catalog core, a listener subscribed):`,
      row(`1,000 checkpoints`, smallCost),
      row(`${total.toLocaleString('en-US')} checkpoints`, bigCost),
    ];
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--scale-probe') {
    await scaleProbe(process.argv[3] as string, process.argv[4] as string);
    return;
  }
  if (process.argv[2] === '--catalog-probe') {
    const opens: number[] = [];
    let count = 0;
    for (let i = 0; i < 5; i += 1) {
      opens.push(
        await time(async () => {
          count = (await Catalog.open(process.argv[3] as string, storedForeignParts, NO_IN_PLACE_LAYOUTS)).list().length;
        }),
      );
    }
    process.stdout.write(JSON.stringify({ opens, count }));
    return;
  }
  if (process.argv[2] === '--memory-probe') {
    await memoryProbe(Number(process.argv[3]));
    return;
  }
  const sizes = (process.env.BENCH_PARAMS ?? '10000000,50000000').split(',').map(Number);
  console.log(`checkpoint store benchmark: node ${process.version}, ${os.cpus().length} cores, ${REPEATS} alternating repeats, medians`);
  // BENCH_ONLY=scale runs the catalog at the scale alone (the save benchmarks take minutes).
  if (process.env.BENCH_ONLY === 'scale') {
    for (const line of await benchCatalogScale()) console.log(line);
    return;
  }
  for (const params of sizes) {
    for (const line of await benchSaveLoad(params)) console.log(line);
    console.log(benchMemory(params));
  }
  for (const line of await benchCatalog()) console.log(line);
  for (const line of await benchCatalogScale()) console.log(line);
}

await main();
