// One serialized path into the catalog: a watcher's re-read, the store's delete and restore, and
// the re-reads the Studio asks for while it follows a training are applied one at a time, in
// the order asked. Each race below holds the first re-read after it has looked at the disk and
// before it is applied, fires the second path, and checks that the two never ran together, that
// the catalog ends equal to a fresh scan, and that the events tell a consistent story.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { CatalogEvent, CheckpointInfo } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { onCleanup, trainingState, useTempWorkspaces } from './helpers.js';

/** Every re-read of the disk the catalog makes, counted; the next one can be held before it is applied. */
const scans = vi.hoisted(() => ({
  active: 0,
  maxActive: 0,
  hold: null as null | { reached: () => void; released: Promise<void> },
}));

vi.mock('../../electron/core/checkpoint/catalog-scan.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../electron/core/checkpoint/catalog-scan.js')>();
  const tracked =
    <A extends unknown[], R>(scan: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      scans.active += 1;
      scans.maxActive = Math.max(scans.maxActive, scans.active);
      try {
        const result = await scan(...args);
        const hold = scans.hold;
        scans.hold = null;
        if (hold) {
          hold.reached();
          await hold.released;
        }
        return result;
      } finally {
        scans.active -= 1;
      }
    };
  return { ...real, scanRun: tracked(real.scanRun), scanOneCheckpoint: tracked(real.scanOneCheckpoint) };
});

const makeWorkspace = useTempWorkspaces();

/** Holds the next re-read once it has read the disk, until released. */
function holdNextScan(): { reached: Promise<void>; release: () => void } {
  let reached!: () => void;
  let release!: () => void;
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  scans.hold = { reached, released };
  return { reached: reachedPromise, release };
}

async function workspace(steps: number[]): Promise<{ store: CheckpointStore; root: string; events: CatalogEvent[]; initial: CheckpointInfo[] }> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('r', { parent: null, config: {} });
  for (const step of steps) await writer.save(trainingState(step));
  await writer.close();
  await store.catalog.refresh();
  const events: CatalogEvent[] = [];
  store.catalog.subscribe((event) => events.push(event));
  scans.maxActive = 0;
  return { store, root: store.root, events, initial: store.catalog.list() };
}

/** The catalog the events describe, applied to what was listed before them. */
function replay(initial: readonly CheckpointInfo[], events: readonly CatalogEvent[]): CheckpointInfo[] {
  const byId = new Map(initial.map((c) => [c.id, c]));
  for (const event of events) {
    if (event.type === 'removed') {
      expect(byId.has(event.id), `removed ${event.id}, which was not there`).toBe(true);
      byId.delete(event.id);
    } else {
      expect(byId.has(event.checkpoint.id), `${event.type} ${event.checkpoint.id}`).toBe(event.type === 'changed');
      byId.set(event.checkpoint.id, event.checkpoint);
    }
  }
  return [...byId.values()].sort((a, b) => a.step - b.step);
}

async function expectConsistent(store: CheckpointStore, root: string, initial: CheckpointInfo[], events: CatalogEvent[]): Promise<void> {
  await store.catalog.settled();
  const fresh = await CheckpointStore.open(root, { access: 'read' });
  expect(store.catalog.list()).toEqual(fresh.catalog.list());
  expect(replay(initial, events)).toEqual(store.catalog.list());
  expect(scans.maxActive, 'two re-reads of the disk were applied at once').toBe(1);
}

/**
 * Holds `first` after it has read the disk, runs `second` (a store operation), and lets `first`
 * go once `second` has asked the catalog for its own re-read. Were that re-read to run beside the
 * held one (as before the queue), it is let finish first, so the older read would land last.
 */
async function race(store: CheckpointStore, first: () => Promise<void>, second: () => Promise<unknown>): Promise<void> {
  const held = holdNextScan();
  const firstDone = first();
  await held.reached;
  let asked!: () => void;
  const askedPromise = new Promise<void>((resolve) => (asked = resolve));
  const refreshRun = store.catalog.refreshRun.bind(store.catalog);
  vi.spyOn(store.catalog, 'refreshRun').mockImplementation((run) => {
    const done = refreshRun(run);
    asked();
    return done;
  });
  const secondDone = second();
  await askedPromise;
  if (scans.active > 1) await secondDone;
  held.release();
  await Promise.all([firstDone, secondDone]);
}

describe('the catalog applies its changes one at a time', () => {
  it('a watcher event and a delete of the same checkpoint', async () => {
    const { store, root, events, initial } = await workspace([1, 2]);
    const watcher = await store.watch({ coalesceMs: 5 });
    onCleanup(() => watcher.close());
    const target = path.join(root, 'r', 'ckpt-000000001');
    await race(
      store,
      async () => {
        // The watcher sees the folder touched and re-reads it.
        const now = new Date();
        fs.utimesSync(target, now, now);
      },
      () => store.delete(['r/ckpt-000000001']),
    );
    await watcher.settle();
    await expectConsistent(store, root, initial, events);
    expect(store.catalog.get('r/ckpt-000000001')).toBeUndefined();
    // Nothing is said of it after it was removed.
    const last = events.map((e) => (e.type === 'removed' ? e.id : e.checkpoint.id)).lastIndexOf('r/ckpt-000000001');
    expect(events[last]).toMatchObject({ type: 'removed', id: 'r/ckpt-000000001' });
  });

  it('a re-read following a training and a restore from the trash', async () => {
    const { store, root, events, initial } = await workspace([1, 2]);
    const [entry] = await store.delete(['r/ckpt-000000002']);
    const before = events.length;
    // What the Studio asks for when the trainer reports its run finished.
    await race(
      store,
      () => store.catalog.refreshRun('r'),
      () => store.restoreFromTrash([entry?.id ?? '']),
    );
    await expectConsistent(store, root, initial, events);
    expect(store.catalog.get('r/ckpt-000000002')?.status).toBe('unverified');
    expect(events.slice(before).map((e) => e.type)).toEqual(['added']);
  });
});
