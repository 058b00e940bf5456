// What keeps a checkpoint from being deleted is said once, by the core: the catalog shows it on
// each checkpoint (protectedBy) and the store refuses a delete for exactly those reasons. Each
// kind (pinned, a run being written, the parent of another run) is shown both ways, and the
// catalog tells its listeners when a protection comes or goes.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { CatalogEvent, CheckpointInfo } from '../../electron/contract.js';
import { RefusedError } from '../../electron/core/base/errors.js';
import { refusalFor } from '../../electron/core/checkpoint/protection.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { rejectionOf, trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

/**
 * r1: steps 1, 2, 3 (3 pinned); child: continued from r1 step 2; live: being written by this
 * process (its writer is left open).
 */
async function protectedWorkspace(): Promise<{ store: CheckpointStore; closeLive: () => Promise<void> }> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const r1 = await store.createRun('r1', { parent: null, config: {} });
  for (const step of [1, 2, 3]) await r1.save(trainingState(step));
  await r1.close();
  const parent = { run: 'r1', step: 2 };
  const child = await store.createRun('child', { parent, config: {} });
  await child.save(trainingState(10, { parent }));
  await child.close();
  const live = await store.createRun('live', { parent: null, config: {} });
  await live.save(trainingState(5));
  await store.setPinned('r1/ckpt-000000003', true);
  return { store, closeLive: () => live.close() };
}

/** Tries to delete one checkpoint alone: the refusal, or null when it went (and is put back). */
async function tryDelete(store: CheckpointStore, id: string): Promise<string | null> {
  try {
    const [entry] = await store.delete([id]);
    await store.restoreFromTrash([entry?.id ?? '']);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(RefusedError);
    return (error as RefusedError).problem;
  }
}

describe('protections', () => {
  it('the catalog names each kind, in the words the store refuses with', async () => {
    const { store } = await protectedWorkspace();
    const protectedBy = (id: string): CheckpointInfo['protectedBy'] | undefined => store.catalog.get(id)?.protectedBy;
    expect(protectedBy('r1/ckpt-000000003')).toEqual([{ kind: 'pinned', reason: 'pinned' }]);
    expect(protectedBy('r1/ckpt-000000002')).toEqual([{ kind: 'parent', reason: 'parent of run "child"' }]);
    expect(protectedBy('live/ckpt-000000005')).toEqual([
      { kind: 'writer', reason: `run "live" is being written by process ${process.pid} on ${os.hostname()}` },
    ]);
    expect(protectedBy('r1/ckpt-000000001')).toEqual([]);
    expect(protectedBy('child/ckpt-000000010')).toEqual([]);
    const error = await rejectionOf(store.delete(['r1/ckpt-000000002']), RefusedError);
    expect(error.problem).toBe(`parent of run "child", which continued from it; deleting it would cut that lineage (delete those runs' checkpoints first)`);
  });

  it('a delete is refused exactly when the catalog says the checkpoint is protected, and for its first reason', async () => {
    const { store } = await protectedWorkspace();
    const seen = new Set<string>();
    for (const checkpoint of store.catalog.list()) {
      const refusal = await tryDelete(store, checkpoint.id);
      const first = checkpoint.protectedBy[0];
      expect(refusal, checkpoint.id).toBe(first ? refusalFor(first) : null);
      if (first) seen.add(first.kind);
    }
    expect([...seen].sort()).toEqual(['parent', 'pinned', 'writer']);
  });

  it('a protection that comes or goes is a "changed" event for the checkpoints it covers', async () => {
    const { store, closeLive } = await protectedWorkspace();
    const events: CatalogEvent[] = [];
    store.catalog.subscribe((event) => events.push(event));
    const changed = (): [string, string[]][] =>
      events.flatMap((e) => (e.type === 'changed' ? [[e.checkpoint.id, e.checkpoint.protectedBy.map((p) => p.kind)] as [string, string[]]] : []));

    // The writer lets go of its run: the store's own writer tells its catalog (a watcher or the
    // Studio following a trainer do so for a writer elsewhere).
    await closeLive();
    expect(changed()).toEqual([['live/ckpt-000000005', []]]);

    // The child's checkpoints go: nothing continues from r1 step 2 any more.
    events.length = 0;
    const [entry] = await store.delete(['child/ckpt-000000010']);
    expect(changed()).toEqual([['r1/ckpt-000000002', []]]);
    // And come back: it is a parent again.
    events.length = 0;
    await store.restoreFromTrash([entry?.id ?? '']);
    expect(changed()).toEqual([['r1/ckpt-000000002', ['parent']]]);
    expect(events.filter((e) => e.type !== 'changed').map((e) => e.type)).toEqual(['added']);
  });

  it('an empty run keeps nothing protected: a start that never saved is no lineage', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const r1 = await store.createRun('r1', { parent: null, config: {} });
    await r1.save(trainingState(1));
    await r1.close();
    const abandoned = await store.createRun('abandoned', { parent: { run: 'r1', step: 1 }, config: {} });
    // While it is being started (its lock held), the parent it read is protected.
    expect(store.catalog.get('r1/ckpt-000000001')?.protectedBy.map((p) => p.kind)).toEqual(['parent']);
    await abandoned.close();
    expect(store.catalog.get('r1/ckpt-000000001')?.protectedBy).toEqual([]);
    expect(await store.delete(['r1/ckpt-000000001'])).toHaveLength(1);
  });
});
