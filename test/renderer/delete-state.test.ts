// Bulk delete: the plan shown before (count, size, marked ones, protected ones left out), the
// call with exactly the deletable ids, and Undo of that batch.
import { describe, expect, it } from 'vitest';
import { StudioError } from '../../renderer/src/lib/contract';
import { CatalogState } from '../../renderer/src/state/catalog-state.svelte';
import { DeleteState } from '../../renderer/src/state/delete-state.svelte';
import { FakeStudio, checkpoint, run, settle } from './fakes';

async function setup(): Promise<{ fake: FakeStudio; deletion: DeleteState }> {
  const fake = new FakeStudio()
    .handle('snapshot', () => ({
      workspace: '/ws',
      runs: [run('a', { writer: null }), run('b', { parent: { run: 'a', step: 2 } }), run('w', { writer: { pid: 42, host: 'h', since: 's' } })],
      checkpoints: [
        checkpoint('a', 1, { bytes: 100 }),
        checkpoint('a', 2, { protectedBy: [{ kind: 'parent', reason: 'parent of run "b"' }] }),
        checkpoint('a', 3, { pinned: true }),
        checkpoint('a', 4, { bytes: 300 }),
        checkpoint('w', 1, { protectedBy: [{ kind: 'writer', reason: 'run "w" is being written by process 42 on h' }] }),
      ],
      skipped: [],
    }))
    .handle('marks', () => ({ 'a/ckpt-000000004': ['latest(a)', 'best val_loss'] }));
  const catalog = new CatalogState(fake.api, { schedule: (flush) => flush() });
  await catalog.start();
  await settle();
  return { fake, deletion: new DeleteState(fake.api, catalog) };
}

const ids = ['a/ckpt-000000001', 'a/ckpt-000000002', 'a/ckpt-000000003', 'a/ckpt-000000004', 'w/ckpt-000000001'];

describe('DeleteState', () => {
  it("plans the deletable ones and says why the others are left out, in the core's words", async () => {
    const { deletion } = await setup();
    expect(deletion.prepare([])).toBe(false);
    expect(deletion.prepare(ids)).toBe(true);
    const plan = deletion.plan;
    expect(plan?.targets.map((c) => c.id)).toEqual(['a/ckpt-000000001', 'a/ckpt-000000004']);
    expect(plan?.bytes).toBe(400);
    expect(plan?.marked).toEqual([{ id: 'a/ckpt-000000004', marks: ['latest(a)', 'best val_loss'] }]);
    expect(plan?.kept.map((k) => [k.checkpoint.id, k.reasons])).toEqual([
      ['a/ckpt-000000002', ['parent of run "b"']],
      ['a/ckpt-000000003', ['pinned']],
      ['w/ckpt-000000001', ['run "w" is being written by process 42 on h']],
    ]);
  });

  it('deletes exactly the targets, then undoes that batch', async () => {
    const { fake, deletion } = await setup();
    fake.handle('deleteCheckpoints', (params) =>
      (params?.targets ?? []).map((id, i) => ({
        id: `e${i}`,
        batch: 'batch-7',
        originalPath: `/ws/${id}`,
        checkpointId: id,
        deletedAt: 'now',
        bytes: 200,
        reason: 'deleted by hand',
      })),
    );
    fake.handle('undoDelete', () => [
      { id: 'e0', batch: 'batch-7', originalPath: '/ws/a/ckpt-000000001', checkpointId: 'a/ckpt-000000001', deletedAt: 'now', bytes: 200, reason: '' },
      { id: 'e1', batch: 'batch-7', originalPath: '/ws/a/ckpt-000000004', checkpointId: 'a/ckpt-000000004', deletedAt: 'now', bytes: 200, reason: '' },
    ]);
    deletion.prepare(ids);
    expect(await deletion.confirm()).toBe(true);
    expect(fake.callsOf('deleteCheckpoints')).toEqual([{ targets: ['a/ckpt-000000001', 'a/ckpt-000000004'] }]);
    expect(deletion.plan).toBeNull();
    expect(deletion.done).toEqual({ batch: 'batch-7', count: 2, bytes: 400, state: 'deleted' });
    await deletion.undo();
    expect(fake.callsOf('undoDelete')).toEqual([{ batch: 'batch-7' }]);
    expect(deletion.done?.state).toBe('restored');
  });

  it('keeps the dialog open with the refusal when the delete fails', async () => {
    const { fake, deletion } = await setup();
    fake.handle('deleteCheckpoints', () => Promise.reject(new StudioError('refused', 'a/ckpt-000000001: pinned; unpin it first')));
    deletion.prepare(ids);
    expect(await deletion.confirm()).toBe(false);
    expect(deletion.plan).not.toBeNull();
    expect(deletion.error).toBe('a/ckpt-000000001: pinned; unpin it first');
  });
});
