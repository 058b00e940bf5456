// The workspace watcher against a real folder: what another program (or another store) does on
// disk reaches the catalog's listeners as exactly the events it should, and nothing else.
//
// Nothing here waits on the clock. A test waits for the events it expects; to prove that nothing
// else came (no duplicate, nothing for an ignored folder), it then makes a probe run appear, waits
// for the probe's own event, and looks at everything that arrived before it. Why a probe is a
// reliable "after": on Linux every fs.watch of a process shares one inotify queue, so the events
// of the run folders' watchers for whatever the test did were taken (synchronously) before the
// probe's arrival was even read; and a new run folder reaches the watcher only through chokidar's
// re-listing of the workspace, which is asynchronous after that. Once the probe's "added" is in
// and the watcher has settled, everything noticed before it has reached the listeners. A probe
// also makes the watcher re-sync its run watchers from disk, so every folder made before it is
// watched from then on (what a test waits for before acting inside a new folder).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CatalogEvent, CheckpointInfo, RunInfo } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import type { WorkspaceWatcher } from '../../electron/core/checkpoint/watcher.js';
import { onCleanup, trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

/** Events of the tests' own runs arrive within milliseconds; this only bounds a failing wait. */
const WAIT_MS = 10_000;
const PROBE_PREFIX = 'zz-probe-';

interface Watched {
  store: CheckpointStore;
  watcher: WorkspaceWatcher;
  /** Every event the watched store's catalog sent, in order. */
  events: CatalogEvent[];
  /** How many of `events` an earlier expectEvents already accounted for. */
  checked: number;
  probes: number;
  errors: unknown[];
  base: string;
  root: string;
}

/** A complete run folder (run.json and one checkpoint) that each probe copies into the workspace. */
let probeTemplate = '';

beforeAll(async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-watcher-probe-'));
  const store = await CheckpointStore.open(path.join(scratch, 'ws'));
  const writer = await store.createRun('probe', { parent: null, config: {} });
  await writer.save(trainingState(1));
  await writer.close();
  probeTemplate = path.join(store.root, 'probe');
});

afterAll(() => {
  if (probeTemplate) fs.rmSync(path.dirname(path.dirname(probeTemplate)), { recursive: true, force: true });
});

async function watched(): Promise<Watched> {
  const { base, root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const errors: unknown[] = [];
  const watcher = await store.watch({ incompletePollMs: 25, onError: (e) => errors.push(e) });
  onCleanup(() => watcher.close());
  const w: Watched = { store, watcher, events: [], checked: 0, probes: 0, errors, base, root: store.root };
  store.catalog.subscribe((event) => w.events.push(event));
  return w;
}

const runOf = (e: CatalogEvent): string => (e.type === 'removed' ? e.run : e.checkpoint.run);
const isProbe = (run: string): boolean => run.startsWith(PROBE_PREFIX);
const describeEvent = (e: CatalogEvent): string => (e.type === 'removed' ? `removed ${e.id}` : `${e.type} ${e.checkpoint.id} ${e.checkpoint.status}`);

/**
 * Whether each event says something, beyond a writer's lock coming or going: a run's checkpoints
 * are protected while it is written, so a writer closing makes 'changed' events at a moment that
 * depends on when the watcher looks (protections have tests of their own).
 */
function telling(events: readonly CatalogEvent[]): boolean[] {
  const last = new Map<string, CheckpointInfo>();
  const withoutWriter = (c: CheckpointInfo): string => JSON.stringify({ ...c, protectedBy: c.protectedBy.filter((p) => p.kind !== 'writer') });
  return events.map((event) => {
    if (event.type === 'removed') {
      last.delete(event.id);
      return true;
    }
    const before = last.get(event.checkpoint.id);
    last.set(event.checkpoint.id, event.checkpoint);
    return event.type !== 'changed' || before === undefined || withoutWriter(before) !== withoutWriter(event.checkpoint);
  });
}

/** The events about the tests' own runs (not the probes, nor a writer's lock alone), described, from `from` on. */
function eventList(w: Watched, from = 0): string[] {
  const tells = telling(w.events);
  return w.events.flatMap((e, i) => (i >= from && tells[i] && !isProbe(runOf(e)) ? [describeEvent(e)] : []));
}

/** The catalog without the probes. */
function listed(w: Watched): CheckpointInfo[] {
  return w.store.catalog.list().filter((c) => !isProbe(c.run));
}

function runsListed(w: Watched): RunInfo[] {
  return w.store.catalog.listRuns().filter((r) => !isProbe(r.name));
}

/** Resolves as soon as `done` holds, looked at after every event; fails with what arrived. */
function until(w: Watched, what: string, done: () => boolean): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}; the events were ${JSON.stringify(w.events.map(describeEvent))}`));
    }, WAIT_MS);
    const off = w.store.catalog.subscribe(() => {
      if (!done()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Waits until the events since the last check include `expected` (order between checkpoints is free). */
function waitForEvents(w: Watched, expected: readonly string[]): Promise<void> {
  return until(w, `the events ${JSON.stringify(expected)}`, () => {
    const seen = eventList(w, w.checked);
    return expected.every((e) => seen.includes(e));
  });
}

/**
 * Copies a run holding one checkpoint into the workspace in one rename and waits for its "added",
 * then for the watcher to settle: see the top of the file for what that proves.
 */
async function probe(w: Watched): Promise<void> {
  w.probes += 1;
  const name = `${PROBE_PREFIX}${w.probes}`;
  const staged = path.join(w.base, `staged-${name}`);
  fs.cpSync(probeTemplate, staged, { recursive: true });
  fs.renameSync(staged, path.join(w.root, name));
  const added = `added ${name}/ckpt-000000001 unverified`;
  await until(w, `the probe ${name}`, () => w.events.some((e) => describeEvent(e) === added));
  await w.watcher.settle();
}

/**
 * Waits for `expected`, then proves there is nothing else: after a probe, the events since the
 * last check must be exactly these (no duplicates, nothing else), and the watcher reported no error.
 */
async function expectEvents(w: Watched, expected: readonly string[]): Promise<void> {
  await waitForEvents(w, expected);
  await probe(w);
  expect(eventList(w, w.checked).sort()).toEqual([...expected].sort());
  expect(w.errors).toEqual([]);
  w.checked = w.events.length;
}

/**
 * Makes the watcher read a checkpoint folder now: touching it is reported by its run's watcher
 * (writes inside the folder are not; the watcher finds those by looking again at folders it saw
 * incomplete, on its own schedule). The probe after it proves the read happened, and that it
 * announced nothing.
 */
async function readAgainNow(w: Watched, dir: string): Promise<void> {
  const now = new Date();
  fs.utimesSync(dir, now, now);
  await expectEvents(w, []);
}

/**
 * Another store on the same folder: its writes update only its own catalog, so the watched
 * store can learn of them only through its watcher (a test that passed without the watcher
 * would prove nothing).
 */
function other(w: Watched): Promise<CheckpointStore> {
  return CheckpointStore.open(w.root);
}

/** A complete checkpoint folder built outside the workspace, as another program would make one. */
async function foreignCheckpoint(w: Watched, step: number): Promise<string> {
  const scratch = path.join(w.base, `scratch-${step}`);
  const store = await CheckpointStore.open(scratch);
  const writer = await store.createRun('x', { parent: null, config: {} });
  const written = await writer.save(trainingState(step));
  await writer.close();
  return written.dir;
}

describe('the workspace watcher', () => {
  it('a save produces exactly one "added", never one for the .tmp folder', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    // The run is watched before the save, so its watcher sees the .tmp folder come and go.
    await probe(w);
    await writer.save(trainingState(100));
    await expectEvents(w, ['added r1/ckpt-000000100 unverified']);
    expect(listed(w).map((c) => c.path)).toEqual([path.join(w.root, 'r1', 'ckpt-000000100')]);
    await writer.close();
  });

  it('the first save right after a run is created is seen', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(1));
    await writer.save(trainingState(2));
    await expectEvents(w, ['added r1/ckpt-000000001 unverified', 'added r1/ckpt-000000002 unverified']);
    await writer.close();
  });

  it('a checkpoint folder renamed into a run by another program appears as "added"', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.close();
    const made = await foreignCheckpoint(w, 700);
    await probe(w);
    fs.renameSync(made, path.join(w.root, 'r1', 'ckpt-000000700'));
    await expectEvents(w, ['added r1/ckpt-000000700 unverified']);
  });

  it('a run folder made by another program, and a checkpoint moved into it later, appear', async () => {
    const w = await watched();
    const made = await foreignCheckpoint(w, 5);
    fs.mkdirSync(path.join(w.root, 'imported'));
    // An empty folder is no run yet, so nothing is announced; the probe proves it is watched.
    await expectEvents(w, []);
    expect(runsListed(w)).toEqual([]);
    fs.renameSync(made, path.join(w.root, 'imported', 'ckpt-000000005'));
    await expectEvents(w, ['added imported/ckpt-000000005 unverified']);
  });

  it('a folder written non-atomically is not "added" until its manifest and files are complete', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.close();
    const source = await foreignCheckpoint(w, 300);
    const target = path.join(w.root, 'r1', 'ckpt-000000300');
    const seen = (): string | undefined => w.store.catalog.get('r1/ckpt-000000300')?.status;
    await probe(w);
    fs.mkdirSync(target);
    await expectEvents(w, []);
    expect(seen()).toBe('incomplete');
    // Data files first, in pieces, then the manifest, also in two pieces; read at every stage.
    for (const file of ['model.safetensors', 'optimizer.safetensors']) {
      const bytes = fs.readFileSync(path.join(source, file));
      fs.writeFileSync(path.join(target, file), bytes.subarray(0, 40));
      await readAgainNow(w, target);
      expect(seen()).toBe('incomplete');
      fs.appendFileSync(path.join(target, file), bytes.subarray(40));
      await readAgainNow(w, target);
      expect(seen()).toBe('incomplete');
    }
    const manifest = fs.readFileSync(path.join(source, 'manifest.json'));
    fs.writeFileSync(path.join(target, 'manifest.json'), manifest.subarray(0, 100));
    await readAgainNow(w, target);
    expect(seen()).toBe('incomplete');
    // Not touched this time: the watcher's own second look at incomplete folders must find it.
    fs.appendFileSync(path.join(target, 'manifest.json'), manifest.subarray(100));
    await expectEvents(w, ['added r1/ckpt-000000300 unverified']);
  });

  it('a folder written manifest first is not "added" (nor listed damaged) while its files are still being written', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.close();
    const source = await foreignCheckpoint(w, 400);
    const target = path.join(w.root, 'r1', 'ckpt-000000400');
    const seen = (): string | undefined => w.store.catalog.get('r1/ckpt-000000400')?.status;
    await probe(w);
    fs.mkdirSync(target);
    await expectEvents(w, []);
    expect(seen()).toBe('incomplete');
    fs.copyFileSync(path.join(source, 'manifest.json'), path.join(target, 'manifest.json'));
    await readAgainNow(w, target);
    expect(seen()).toBe('incomplete');
    fs.copyFileSync(path.join(source, 'model.safetensors'), path.join(target, 'model.safetensors'));
    await readAgainNow(w, target);
    expect(seen()).toBe('incomplete');
    fs.copyFileSync(path.join(source, 'optimizer.safetensors'), path.join(target, 'optimizer.safetensors'));
    await expectEvents(w, ['added r1/ckpt-000000400 unverified']);
  });

  it('a damaged folder repaired in place is re-read', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.close();
    const source = await foreignCheckpoint(w, 600);
    const model = fs.readFileSync(path.join(source, 'model.safetensors'));
    fs.writeFileSync(path.join(source, 'model.safetensors'), model.subarray(0, 30));
    fs.renameSync(source, path.join(w.root, 'r1', 'ckpt-000000600'));
    await expectEvents(w, ['added r1/ckpt-000000600 damaged']);
    fs.writeFileSync(path.join(w.root, 'r1', 'ckpt-000000600', 'model.safetensors'), model);
    await expectEvents(w, ['changed r1/ckpt-000000600 unverified']);
    expect(eventList(w)).toEqual(['added r1/ckpt-000000600 damaged', 'changed r1/ckpt-000000600 unverified']);
  });

  it('looks again at a damaged folder on every poll without going over the whole catalog each time', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.close();
    const source = await foreignCheckpoint(w, 700);
    fs.writeFileSync(path.join(source, 'model.safetensors'), 'not a tensor file');
    fs.renameSync(source, path.join(w.root, 'r1', 'ckpt-000000700'));
    await expectEvents(w, ['added r1/ckpt-000000700 damaged']);
    await w.watcher.settle();
    // The poll (every 25 ms here) looks the damaged checkpoint up by id each time; a pass over
    // every checkpoint (100,000 of them: 60–100 ms each second) only now and then.
    const catalog = w.store.catalog;
    let passes = 0;
    let looks = 0;
    const all = catalog.all.bind(catalog);
    const get = catalog.get.bind(catalog);
    catalog.all = () => {
      passes += 1;
      return all();
    };
    catalog.get = (id) => {
      if (id.endsWith('ckpt-000000700')) looks += 1;
      return get(id);
    };
    await vi.waitFor(() => expect(looks).toBeGreaterThanOrEqual(30), { timeout: WAIT_MS, interval: 25 });
    expect(passes).toBeLessThanOrEqual(looks / 5);
  });

  it('deleting a checkpoint produces "removed", whoever deletes it', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(1));
    await writer.save(trainingState(2));
    await writer.close();
    await expectEvents(w, ['added r1/ckpt-000000001 unverified', 'added r1/ckpt-000000002 unverified']);
    fs.rmSync(path.join(w.root, 'r1', 'ckpt-000000001'), { recursive: true });
    await expectEvents(w, ['removed r1/ckpt-000000001']);
    await (await other(w)).delete(['r1/ckpt-000000002']);
    await expectEvents(w, ['removed r1/ckpt-000000002']);
    expect(listed(w)).toEqual([]);
  });

  it('a burst of saves coalesces into one "added" per checkpoint, no duplicates', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await probe(w);
    const steps = Array.from({ length: 12 }, (_, i) => (i + 1) * 10);
    for (const step of steps) await writer.save(trainingState(step));
    await writer.close();
    await expectEvents(
      w,
      steps.map((s) => `added r1/ckpt-${String(s).padStart(9, '0')} unverified`),
    );
  });

  it('pinning produces "changed"', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(1));
    await writer.close();
    await expectEvents(w, ['added r1/ckpt-000000001 unverified']);
    await (await other(w)).setPinned('r1/ckpt-000000001', true);
    await expectEvents(w, ['changed r1/ckpt-000000001 unverified']);
    const pinned = w.events.filter((e) => e.type === 'changed').at(-1);
    expect(pinned?.type === 'changed' && pinned.checkpoint.pinned).toBe(true);
    // Another program editing retention.json is seen too.
    const file = path.join(w.root, 'r1', 'retention.json');
    const retention = JSON.parse(fs.readFileSync(file, 'utf8')) as { pinned: string[] };
    retention.pinned = [];
    fs.writeFileSync(file, JSON.stringify(retention));
    await expectEvents(w, ['changed r1/ckpt-000000001 unverified']);
    expect(w.store.catalog.get('r1/ckpt-000000001')?.pinned).toBe(false);
  });

  it('survives the workspace folder being deleted and created again', async () => {
    const w = await watched();
    let writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(1));
    await writer.save(trainingState(2));
    await writer.close();
    await expectEvents(w, ['added r1/ckpt-000000001 unverified', 'added r1/ckpt-000000002 unverified']);
    fs.rmSync(w.root, { recursive: true });
    // No probe can prove "nothing else" while there is no workspace: the next check covers these too.
    const removed = ['removed r1/ckpt-000000001', 'removed r1/ckpt-000000002'];
    await waitForEvents(w, removed);
    expect(runsListed(w)).toEqual([]);
    fs.mkdirSync(w.root);
    // The probe's arrival proves the watcher watches the new folder before anything is written in it.
    await probe(w);
    writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(3));
    await writer.close();
    await expectEvents(w, [...removed, 'added r1/ckpt-000000003 unverified']);
    // And keeps working for another save after that.
    writer = await (await other(w)).openRunWriter('r1');
    await writer.save(trainingState(4));
    await writer.close();
    await expectEvents(w, ['added r1/ckpt-000000004 unverified']);
  });
});
