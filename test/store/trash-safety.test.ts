// The trash's records are data, never paths: whatever an entry.json says, restore and purge act
// only on the entry folder it sits in and only write into the workspace's own run folders.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError, RefusedError } from '../../electron/core/base/errors.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { names, readJson, rejectionOf, snapshotTree, trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

interface World {
  readonly store: CheckpointStore;
  readonly base: string;
  /** A folder beside the workspace that nothing may touch. */
  readonly outside: string;
  readonly trash: string;
}

async function world(runs: Record<string, number[]> = { r1: [100, 200, 300] }): Promise<World> {
  const { base, root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  for (const [run, steps] of Object.entries(runs)) {
    const writer = await store.createRun(run, { parent: null, config: {} });
    for (const step of steps) await writer.save(trainingState(step));
    await writer.close();
  }
  const outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(outside, 'x'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'precious.txt'), 'do not touch');
  fs.writeFileSync(path.join(outside, 'x', 'inner.txt'), 'nor this');
  return { store, base, outside, trash: path.join(store.root, '.trash') };
}

function editEntry(trash: string, id: string, edit: (record: Record<string, unknown>) => void): void {
  const file = path.join(trash, id, 'entry.json');
  const record = readJson(file);
  edit(record);
  fs.writeFileSync(file, JSON.stringify(record));
}

describe('trash entries are data, never paths', () => {
  it('an entry whose id is "..", "../..", absolute or another entry is reported and skipped by ls, restore and purge', async () => {
    const w = await world();
    const entries = await w.store.delete(['r1/ckpt-000000100', 'r1/ckpt-000000200']);
    const [first, second] = entries.map((e) => e.id) as [string, string];
    const hostile = ['..', '../..', '../../outside', '/', w.outside, second];
    // One forged record per value, each in an entry folder of its own (copies of the first).
    const forged = hostile.map((id, i) => {
      const name = `forged-${i}`;
      fs.cpSync(path.join(w.trash, first), path.join(w.trash, name), { recursive: true });
      editEntry(w.trash, name, (r) => (r.id = id));
      return name;
    });
    const outsideBefore = snapshotTree(w.outside);
    const workspaceFiles = names(w.store.root);

    const listing = await w.store.inspectTrash();
    expect(listing.entries.map((e) => e.id).sort()).toEqual([first, second].sort());
    expect(listing.problems.map((p) => p.name).sort()).toEqual(forged.sort());
    for (const problem of listing.problems) expect(problem.problem).toMatch(/its id .* is not its folder's name; left alone/);

    for (const id of hostile.filter((h) => h !== second)) await rejectionOf(w.store.restoreFromTrash([id]), NotFoundError);
    const purged = await w.store.purgeTrash();
    expect(purged.purged.map((e) => e.id).sort()).toEqual([first, second].sort());
    expect(names(w.trash).sort()).toEqual(forged.sort());
    expect(names(w.store.root)).toEqual(workspaceFiles);
    expect(snapshotTree(w.outside)).toEqual(outsideBefore);
    expect(w.store.catalog.list().map((c) => c.id)).toEqual(['r1/ckpt-000000300']);
  });

  it('an originalPath or batch that leads elsewhere is never restored to', async () => {
    const w = await world();
    const [entry] = await w.store.delete(['r1/ckpt-000000100']);
    const id = entry?.id ?? '';
    const outsideBefore = snapshotTree(w.outside);
    for (const [field, value] of [
      ['originalPath', '../outside/x'],
      ['originalPath', 'r1/../../outside/ckpt-000000100'],
      ['originalPath', path.join(w.outside, 'ckpt-000000100')],
      ['originalPath', '.hidden/ckpt-000000100'],
      ['originalPath', 'r1/not-a-checkpoint'],
      ['originalPath', 'r1'],
      ['batch', '..'],
      ['batch', 'a/b'],
    ] as const) {
      const original = fs.readFileSync(path.join(w.trash, id, 'entry.json'));
      editEntry(w.trash, id, (r) => (r[field] = value));
      expect((await w.store.inspectTrash()).problems).toHaveLength(1);
      await rejectionOf(w.store.restoreFromTrash([id]), NotFoundError);
      expect((await w.store.purgeTrash()).purged).toEqual([]);
      fs.writeFileSync(path.join(w.trash, id, 'entry.json'), original);
    }
    expect(snapshotTree(w.outside)).toEqual(outsideBefore);
    // Repaired, the same entry restores normally.
    expect((await w.store.restoreFromTrash([id])).map((e) => e.checkpointId)).toEqual(['r1/ckpt-000000100']);
  });

  it('purge removes a payload that is a symbolic link as a link, and never follows an entry folder that is one', async () => {
    const w = await world();
    const [entry] = await w.store.delete(['r1/ckpt-000000100']);
    const id = entry?.id ?? '';
    const payload = path.join(w.trash, id, 'payload');
    fs.rmSync(payload, { recursive: true });
    fs.symlinkSync(w.outside, payload);
    fs.symlinkSync(w.outside, path.join(w.trash, '000000000077-0000'));
    const outsideBefore = snapshotTree(w.outside);
    const result = await w.store.purgeTrash();
    expect(result.purged.map((e) => e.id)).toEqual([id]);
    expect(result.problems).toEqual([{ name: '000000000077-0000', problem: 'is a symbolic link, not a trash entry; left alone' }]);
    expect(snapshotTree(w.outside)).toEqual(outsideBefore);
  });

  it('a .trash that is a symbolic link is refused for deleting, restoring and purging', async () => {
    const w = await world();
    fs.symlinkSync(w.outside, w.trash);
    const outsideBefore = snapshotTree(w.outside);
    const refused = await rejectionOf(w.store.delete(['r1/ckpt-000000100']), RefusedError);
    expect(refused.message).toBe(`${w.trash}: refused: is a symbolic link; the trash must be a folder of the workspace itself`);
    await rejectionOf(w.store.purgeTrash(), RefusedError);
    await rejectionOf(w.store.undo(), RefusedError);
    expect(snapshotTree(w.outside)).toEqual(outsideBefore);
    expect(w.store.catalog.list('r1')).toHaveLength(3);
  });
});

describe('restore writes only inside the workspace, all or nothing', () => {
  it('refuses a run folder that has become a symbolic link to somewhere else', async () => {
    const w = await world();
    const [entry] = await w.store.delete(['r1/ckpt-000000100']);
    const runDir = path.join(w.store.root, 'r1');
    fs.renameSync(runDir, path.join(w.base, 'moved-r1'));
    fs.symlinkSync(w.outside, runDir);
    const outsideBefore = snapshotTree(w.outside);
    const error = await rejectionOf(w.store.restoreFromTrash([entry?.id ?? '']), RefusedError);
    expect(error.message).toContain(`its run folder ${runDir} is a symbolic link (to ${fs.realpathSync(w.outside)})`);
    expect(snapshotTree(w.outside)).toEqual(outsideBefore);
    expect((await w.store.listTrash()).map((e) => e.id)).toEqual([entry?.id]);
  });

  it('recreates a run folder that is gone', async () => {
    const w = await world();
    const entries = await w.store.delete(['r1/ckpt-000000100', 'r1/ckpt-000000200', 'r1/ckpt-000000300']);
    fs.rmSync(path.join(w.store.root, 'r1'), { recursive: true });
    expect((await w.store.undo()).length).toBe(entries.length);
    expect(names(path.join(w.store.root, 'r1'))).toEqual(['ckpt-000000100', 'ckpt-000000200', 'ckpt-000000300']);
  });

  it('a batch restore with one destination occupied restores none, and says which', async () => {
    const w = await world();
    const batch = await w.store.delete(['r1/ckpt-000000100', 'r1/ckpt-000000200', 'r1/ckpt-000000300']);
    const writer = await w.store.openRunWriter('r1');
    await writer.save(trainingState(200, { metrics: { loss: 9 } }));
    await writer.close();
    const runBefore = snapshotTree(path.join(w.store.root, 'r1'));
    const error = await rejectionOf(w.store.undo(), RefusedError);
    const occupied = batch.find((e) => e.checkpointId === 'r1/ckpt-000000200');
    expect(error.message).toContain(
      `nothing restored, because one entry cannot go back: ${occupied?.id}: ${path.join(w.store.root, 'r1', 'ckpt-000000200')} already exists`,
    );
    expect(snapshotTree(path.join(w.store.root, 'r1'))).toEqual(runBefore);
    expect((await w.store.listTrash()).length).toBe(3);
  });

  it('undo takes the most recent batch by its number, even when the clock says otherwise', async () => {
    const w = await world();
    const [older] = await w.store.delete(['r1/ckpt-000000100']);
    const [newer] = await w.store.delete(['r1/ckpt-000000200']);
    expect(Number(newer?.batch)).toBe(Number(older?.batch) + 1);
    // Same millisecond, or a clock set back: the record's time must not decide.
    editEntry(w.trash, newer?.id ?? '', (r) => (r.deletedAt = '2001-01-01T00:00:00.000Z'));
    expect((await w.store.undo()).map((e) => e.checkpointId)).toEqual(['r1/ckpt-000000200']);
  });
});

describe('names', () => {
  it('a run with spaces and non-ASCII letters works with ls, pin, rm and the trash', async () => {
    const w = await world({ 'run é 2': [1, 2, 3] });
    expect(w.store.catalog.list().map((c) => c.id)).toEqual(['run é 2/ckpt-000000001', 'run é 2/ckpt-000000002', 'run é 2/ckpt-000000003']);
    await w.store.setPinned('run é 2/ckpt-000000001', true);
    const [entry] = await w.store.delete(['run é 2/ckpt-000000002']);
    expect(entry?.checkpointId).toBe('run é 2/ckpt-000000002');
    expect((await w.store.listTrash()).map((e) => e.id)).toEqual([entry?.id]);
    expect((await w.store.undo()).map((e) => e.checkpointId)).toEqual(['run é 2/ckpt-000000002']);
    await w.store.delete([path.join(w.store.root, 'run é 2', 'ckpt-000000003')]);
    expect((await w.store.purgeTrash()).purged).toHaveLength(1);
  });

  it('a run folder whose name holds a newline is not listed, and says why', async () => {
    const w = await world();
    const odd = path.join(w.store.root, 'bad\nname');
    fs.cpSync(path.join(w.store.root, 'r1'), odd, { recursive: true });
    await w.store.catalog.refresh();
    expect(w.store.catalog.listRuns().map((r) => r.name)).toEqual(['r1']);
    expect(w.store.catalog.skipped()).toEqual([
      { name: '"bad\\nname"', reason: 'the name contains a control character (a newline, a tab, …); rename the folder to see its checkpoints' },
    ]);
    await rejectionOf(w.store.delete([path.join(odd, 'ckpt-000000100')]), RefusedError);
    expect(names(odd)).toContain('ckpt-000000100');
  });
});
