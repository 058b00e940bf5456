import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CatalogEvent, CheckpointInfo } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import type { WorkspaceWatcher } from '../../electron/core/checkpoint/watcher.js';
import { onCleanup, sleep, trainingState, useTempWorkspaces, waitFor } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

interface Watched {
  store: CheckpointStore;
  watcher: WorkspaceWatcher;
  events: CatalogEvent[];
  errors: unknown[];
  base: string;
  root: string;
}

async function watched(): Promise<Watched> {
  const { base, root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const errors: unknown[] = [];
  const watcher = await store.watch({ incompletePollMs: 25, onError: (e) => errors.push(e) });
  onCleanup(() => watcher.close());
  const events: CatalogEvent[] = [];
  store.catalog.subscribe((event) => events.push(event));
  return { store, watcher, events, errors, base, root: store.root };
}

const describeEvent = (e: CatalogEvent): string => (e.type === 'removed' ? `removed ${e.id}` : `${e.type} ${e.checkpoint.id} ${e.checkpoint.status}`);
/**
 * The events, less those that only say a writer's lock came or went (its run's checkpoints are
 * protected while it writes, so a writer closing makes 'changed' events, at a moment that
 * depends on when the watcher looks): protections have tests of their own.
 */
function withoutWriterChanges(events: readonly CatalogEvent[]): CatalogEvent[] {
  const last = new Map<string, CheckpointInfo>();
  const withoutWriter = (c: CheckpointInfo): string => JSON.stringify({ ...c, protectedBy: c.protectedBy.filter((p) => p.kind !== 'writer') });
  return events.filter((event) => {
    if (event.type === 'removed') {
      last.delete(event.id);
      return true;
    }
    const before = last.get(event.checkpoint.id);
    last.set(event.checkpoint.id, event.checkpoint);
    return event.type !== 'changed' || before === undefined || withoutWriter(before) !== withoutWriter(event.checkpoint);
  });
}

const eventList = (events: readonly CatalogEvent[]): string[] => withoutWriterChanges(events).map(describeEvent);

/**
 * Waits until the events contain `expected` (as described), then lets stragglers arrive and
 * checks there are exactly those: no duplicates, nothing else. Order between checkpoints is free.
 */
async function expectEvents(w: Watched, expected: string[], timeoutMs = 3000): Promise<void> {
  await waitFor(
    `events ${JSON.stringify(expected)}, got ${JSON.stringify(eventList(w.events))}`,
    async () => {
      await w.watcher.settle();
      return expected.every((e) => eventList(w.events).includes(e));
    },
    timeoutMs,
  );
  await sleep(150);
  await w.watcher.settle();
  expect(eventList(w.events).sort()).toEqual([...expected].sort());
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
    await sleep(100);
    await writer.save(trainingState(100));
    await expectEvents(w, ['added r1/ckpt-000000100 unverified']);
    expect(w.store.catalog.list().map((c) => c.path)).toEqual([path.join(w.root, 'r1', 'ckpt-000000100')]);
    await writer.close();
    expect(w.errors).toEqual([]);
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
    await sleep(100);
    fs.renameSync(made, path.join(w.root, 'r1', 'ckpt-000000700'));
    await expectEvents(w, ['added r1/ckpt-000000700 unverified']);
  });

  it('a run folder made by another program, and a checkpoint moved into it later, appear', async () => {
    const w = await watched();
    const made = await foreignCheckpoint(w, 5);
    fs.mkdirSync(path.join(w.root, 'imported'));
    await sleep(150);
    await w.watcher.settle();
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
    await sleep(50);
    fs.mkdirSync(target);
    await waitFor('the empty folder to be listed as incomplete', () => seen() === 'incomplete');
    // Data files first, slowly and in pieces, then the manifest, also in two pieces.
    for (const file of ['model.safetensors', 'optimizer.safetensors']) {
      const bytes = fs.readFileSync(path.join(source, file));
      fs.writeFileSync(path.join(target, file), bytes.subarray(0, 40));
      await sleep(80);
      fs.appendFileSync(path.join(target, file), bytes.subarray(40));
      await sleep(80);
    }
    expect(seen()).toBe('incomplete');
    const manifest = fs.readFileSync(path.join(source, 'manifest.json'));
    fs.writeFileSync(path.join(target, 'manifest.json'), manifest.subarray(0, 100));
    await sleep(150);
    await w.watcher.settle();
    expect(seen()).toBe('incomplete');
    expect(w.events).toEqual([]);
    fs.appendFileSync(path.join(target, 'manifest.json'), manifest.subarray(100));
    await expectEvents(w, ['added r1/ckpt-000000300 unverified']);
  });

  it('a folder written manifest first is not "added" (nor listed damaged) while its files are still being written', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.close();
    const source = await foreignCheckpoint(w, 400);
    const target = path.join(w.root, 'r1', 'ckpt-000000400');
    await sleep(50);
    fs.mkdirSync(target);
    await waitFor('the empty folder to be listed', () => w.store.catalog.get('r1/ckpt-000000400') !== undefined);
    fs.copyFileSync(path.join(source, 'manifest.json'), path.join(target, 'manifest.json'));
    await sleep(100);
    fs.copyFileSync(path.join(source, 'model.safetensors'), path.join(target, 'model.safetensors'));
    await sleep(100);
    await w.watcher.settle();
    expect(w.events).toEqual([]);
    expect(w.store.catalog.get('r1/ckpt-000000400')?.status).toBe('incomplete');
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
    await expectEvents(w, ['added r1/ckpt-000000600 damaged', 'changed r1/ckpt-000000600 unverified']);
    expect(eventList(w.events)).toEqual(['added r1/ckpt-000000600 damaged', 'changed r1/ckpt-000000600 unverified']);
  });

  it('deleting a checkpoint produces "removed", whoever deletes it', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(1));
    await writer.save(trainingState(2));
    await writer.close();
    await expectEvents(w, ['added r1/ckpt-000000001 unverified', 'added r1/ckpt-000000002 unverified']);
    w.events.length = 0;
    fs.rmSync(path.join(w.root, 'r1', 'ckpt-000000001'), { recursive: true });
    await expectEvents(w, ['removed r1/ckpt-000000001']);
    w.events.length = 0;
    await (await other(w)).delete(['r1/ckpt-000000002']);
    await expectEvents(w, ['removed r1/ckpt-000000002']);
    expect(w.store.catalog.list()).toEqual([]);
  });

  it('a burst of saves coalesces into one "added" per checkpoint, no duplicates', async () => {
    const w = await watched();
    const writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await sleep(100);
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
    w.events.length = 0;
    await (await other(w)).setPinned('r1/ckpt-000000001', true);
    await expectEvents(w, ['changed r1/ckpt-000000001 unverified']);
    expect(w.events[0]?.type === 'changed' && w.events[0].checkpoint.pinned).toBe(true);
    // Another program editing retention.json is seen too.
    w.events.length = 0;
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
    w.events.length = 0;
    fs.rmSync(w.root, { recursive: true });
    await expectEvents(w, ['removed r1/ckpt-000000001', 'removed r1/ckpt-000000002']);
    expect(w.store.catalog.listRuns()).toEqual([]);
    w.events.length = 0;
    fs.mkdirSync(w.root);
    await sleep(150);
    writer = await (await other(w)).createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(3));
    await writer.close();
    await expectEvents(w, ['added r1/ckpt-000000003 unverified']);
    // And keeps working for another save after that.
    w.events.length = 0;
    writer = await (await other(w)).openRunWriter('r1');
    await writer.save(trainingState(4));
    await writer.close();
    await expectEvents(w, ['added r1/ckpt-000000004 unverified']);
  });
});
