// The Checkpoints screen's actions over the StudioApi: select by policy (fields to a policy, the
// preview's delete set), restore and continue (the parent's settings and the overrides sent),
// the trash by batch with restore and purge, and verifying many in chunks with a cancel.
import { describe, expect, it } from 'vitest';
import { continuePlan, parentSettings } from '../../renderer/src/lib/continue-plan';
import type { RetentionPlan, TrashEntry, VerifyResult } from '../../renderer/src/lib/contract';
import { StudioError } from '../../renderer/src/lib/contract';
import { planTotals, policyFromFields } from '../../renderer/src/lib/policy-form';
import { EMPTY_SELECTION, selectIds } from '../../renderer/src/lib/selection';
import { groupTrash } from '../../renderer/src/lib/trash-batches';
import { TrashState } from '../../renderer/src/state/trash-state.svelte';
import { VerifyBatchState } from '../../renderer/src/state/verify-batch-state.svelte';
import { FakeStudio, settle } from './fakes';

const fields = { keepLast: '', keepBest: '', everySteps: '', metric: 'val_loss', mode: 'min' as const };

describe('select by policy', () => {
  it('turns the filled fields into a retention policy and refuses what the core would', () => {
    expect(policyFromFields({ ...fields, keepLast: '3', keepBest: '2', everySteps: '100' })).toEqual({
      ok: true,
      policy: { keepLast: 3, keepBest: { k: 2, metric: 'val_loss', mode: 'min' }, keepEverySteps: 100 },
    });
    expect(policyFromFields({ ...fields, keepLast: ' 5 ' })).toEqual({ ok: true, policy: { keepLast: 5 } });
    expect(policyFromFields(fields)).toMatchObject({ ok: false, error: expect.stringMatching(/at least one rule/) });
    expect(policyFromFields({ ...fields, keepLast: '2.5' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Keep last must be a whole number above 0 \(not "2.5"\)/),
    });
    expect(policyFromFields({ ...fields, keepBest: '1', metric: null })).toMatchObject({ ok: false, error: expect.stringMatching(/needs a metric/) });
  });

  it("selects exactly the preview's delete set", () => {
    const decision = (id: string, reasons: string[] = []) => ({ id, step: 1, bytes: 10, reasons });
    const plans: RetentionPlan[] = [
      { run: 'a', policy: {}, keep: [decision('a/3', ['keep-last 1'])], delete: [decision('a/1'), decision('a/2')], bytesFreed: 20, warnings: [] },
      { run: 'b', policy: {}, keep: [decision('b/2', ['latest'])], delete: [decision('b/1')], bytesFreed: 10, warnings: [] },
    ];
    expect(planTotals(plans)).toEqual({ keep: 2, remove: 3, bytesFreed: 30, deleteIds: ['a/1', 'a/2', 'b/1'] });
    const selected = selectIds(EMPTY_SELECTION, planTotals(plans).deleteIds);
    expect([...selected.selected]).toEqual(['a/1', 'a/2', 'b/1']);
    expect(selected.active).toBe('a/1');
  });
});

describe('restore and continue', () => {
  const meta = {
    formatVersion: 1 as const,
    name: 'a',
    createdAt: '2026-01-01T00:00:00.000Z',
    parent: null,
    config: {
      training: { epochs: 3, batchSize: 32, optimizer: { name: 'adam', learningRate: 0.001 } },
      checkpoints: { everySteps: 5, onStop: true },
      retention: { keepLast: 6 },
    },
  };

  it("lists the parent's settings and sends only what the form changed", () => {
    const parent = parentSettings(meta);
    expect(parent).toMatchObject({ epochs: 3, learningRate: 0.001, optimizer: 'adam', batchSize: 32, retention: { keepLast: 6 } });
    const same = continuePlan(parent, { epochs: '', learningRate: '', everySteps: '', keepLast: '' });
    expect(same).toMatchObject({ ok: true, overrides: {} });
    if (same.ok)
      expect(same.lines).toEqual(
        expect.arrayContaining(["epochs 3 (the parent's)", "learning rate 0.001 (the parent's)", "checkpoints every 5 steps (the parent's)"]),
      );
    const changed = continuePlan(parent, { epochs: '5', learningRate: '0.005', everySteps: '10', keepLast: '2' });
    expect(changed).toMatchObject({
      ok: true,
      overrides: { epochs: 5, learningRate: 0.005, checkpoints: { everySteps: 10, onStop: true }, retention: { keepLast: 2 } },
    });
    if (changed.ok) expect(changed.lines).toContain('learning rate 0.005 (changed; the parent had 0.001)');
    expect(continuePlan(parent, { epochs: '0', learningRate: '', everySteps: '', keepLast: '' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^Epochs must be a whole number above 0/),
    });
  });

  it('reads a run.json without a config (an imported run) as unknown, not as zero', () => {
    const parent = parentSettings({ ...meta, config: {} });
    expect(parent).toEqual({ epochs: null, learningRate: null, optimizer: null, batchSize: null, checkpoints: null, retention: null });
    const plan = continuePlan(parent, { epochs: '', learningRate: '', everySteps: '', keepLast: '' });
    if (plan.ok) expect(plan.lines[0]).toBe("epochs unknown (the parent's)");
  });
});

const entry = (id: string, batch: string, deletedAt: string, overrides: Partial<TrashEntry> = {}): TrashEntry => ({
  id,
  batch,
  originalPath: `/ws/${id}`,
  checkpointId: `a/${id}`,
  deletedAt,
  bytes: 100,
  reason: 'deleted by hand',
  ...overrides,
});

describe('the trash', () => {
  it('groups entries by batch, newest first, with count, bytes and reasons', () => {
    const batches = groupTrash([
      entry('e1', 'b1', '2026-01-01T00:00:00Z'),
      entry('e3', 'b2', '2026-01-02T00:00:00Z', { reason: 'policy' }),
      entry('e2', 'b1', '2026-01-01T00:00:01Z', { bytes: 50 }),
    ]);
    expect(batches.map((b) => [b.batch, b.entries.length, b.bytes, b.deletedAt, b.reasons])).toEqual([
      ['b2', 1, 100, '2026-01-02T00:00:00Z', ['policy']],
      ['b1', 2, 150, '2026-01-01T00:00:01Z', ['deleted by hand']],
    ]);
  });

  it('restores a batch whole through undoDelete, keeps an error beside its batch, and purges', async () => {
    let entries = [entry('e1', 'b1', '2026-01-01T00:00:00Z'), entry('e2', 'b2', '2026-01-02T00:00:00Z')];
    const fake = new FakeStudio()
      .handle('listTrash', () => ({ entries, problems: [], bytes: entries.reduce((s, e) => s + e.bytes, 0) }))
      .handle('undoDelete', (p) => {
        if (p?.batch === 'b2') throw new StudioError('refused', 'nothing restored, because one entry cannot go back: a/e2 exists');
        const restored = entries.filter((e) => e.batch === p?.batch);
        entries = entries.filter((e) => e.batch !== p?.batch);
        return restored;
      })
      .handle('purgeTrash', () => {
        const purged = entries;
        entries = [];
        return { purged, bytes: 100, problems: [] };
      });
    const trash = new TrashState(fake.api);
    await trash.load();
    expect(trash.batches.map((b) => b.batch)).toEqual(['b2', 'b1']);
    await trash.restoreBatch('b1');
    expect(fake.callsOf('undoDelete')).toEqual([{ batch: 'b1' }]);
    expect(trash.notice).toBe('Restored 1 from the trash.');
    expect(trash.batches.map((b) => b.batch)).toEqual(['b2']);
    await trash.restoreBatch('b2');
    expect(trash.errors.get('b2')).toMatch(/nothing restored/);
    expect(trash.batches.map((b) => b.batch)).toEqual(['b2']);
    await trash.purge();
    expect(trash.batches).toEqual([]);
    expect(trash.notice).toBe('Purged 1 from the trash.');
  });
});

describe('verifying many', () => {
  const result = (id: string, ok = true): VerifyResult => ({ id, path: `/ws/${id}`, ok, status: ok ? 'complete' : 'damaged', problems: [] });

  it('verifies in chunks, counts the damaged, and stops issuing chunks once cancelled', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `a/${i}`);
    const gates: (() => void)[] = [];
    const fake = new FakeStudio().handle('verify', async (p) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return { results: (p?.targets ?? []).map((id) => result(id, id !== 'a/1')), warnings: [] };
    });
    const verify = new VerifyBatchState(fake.api, 3);
    const running = verify.run(ids);
    await settle();
    expect(verify.progress).toMatchObject({ total: 10, done: 0, state: 'running' });
    gates.shift()?.();
    await settle();
    expect(verify.progress).toMatchObject({ done: 3, state: 'running' });
    expect(verify.progress?.damaged.map((d) => d.id)).toEqual(['a/1']);
    verify.cancel();
    expect(verify.progress?.state).toBe('cancelling');
    gates.shift()?.();
    await running;
    expect(verify.progress).toMatchObject({ done: 6, state: 'cancelled' });
    expect(fake.callsOf('verify')).toEqual([{ targets: ['a/0', 'a/1', 'a/2'] }, { targets: ['a/3', 'a/4', 'a/5'] }]);
  });

  it('reports a failed chunk and where it stopped', async () => {
    const fake = new FakeStudio().handle('verify', () => {
      throw new StudioError('io', '/ws/a/0/model.safetensors: permission denied');
    });
    const verify = new VerifyBatchState(fake.api, 2);
    await verify.run(['a/0', 'a/1', 'a/2']);
    expect(verify.progress).toMatchObject({ done: 0, state: 'failed', error: '/ws/a/0/model.safetensors: permission denied' });
  });
});
