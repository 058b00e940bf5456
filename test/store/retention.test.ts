import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckpointInfo, RetentionPlan } from '../../electron/contract.js';
import { NotFoundError, RefusedError } from '../../electron/core/base/errors.js';
import { planRetention, rememberBest } from '../../electron/core/checkpoint/retention.js';
import { type RunRetention, RunRetentionSchema, readRunRetention } from '../../electron/core/checkpoint/run-files.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { readJson, rejectionOf, rewriteManifest, snapshotTree, trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();
const HOUR = 3_600_000;
const T0 = Date.parse('2024-05-01T00:00:00.000Z');

function info(step: number, overrides: Partial<CheckpointInfo> = {}): CheckpointInfo {
  const run = overrides.run ?? 'r1';
  const dirName = `ckpt-${String(step).padStart(9, '0')}`;
  return {
    id: `${run}/${dirName}`,
    run,
    step,
    stepKnown: true,
    path: `/ws/${run}/${dirName}`,
    status: 'unverified',
    statusReason: null,
    bytes: 1000,
    epoch: 0,
    batchInEpoch: step,
    createdAt: new Date(T0 + step * 60_000).toISOString(),
    trainingTimeMs: step,
    saveBlockedMs: null,
    source: null,
    metrics: { loss: 1 / step },
    backend: 'cpu',
    parent: null,
    origin: 'trained',
    linked: false,
    pinned: false,
    sameStepAs: [],
    protectedBy: [],
    files: null,
    notes: [],
    ...overrides,
  };
}

const retention = (policy: RunRetention['policy'], pinned: string[] = []): RunRetention => RunRetentionSchema.parse({ policy, pinned });
const steps = (decisions: RetentionPlan['delete']): number[] => decisions.map((d) => d.step);

describe('planning (pure)', () => {
  const ten = Array.from({ length: 10 }, (_, i) => info((i + 1) * 10));

  it('keep-last N keeps the N highest steps and deletes the rest, each with its reason', () => {
    const plan = planRetention('r1', ten, retention({ keepLast: 3 }));
    expect(steps(plan.keep)).toEqual([80, 90, 100]);
    expect(steps(plan.delete)).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(plan.keep.find((d) => d.step === 100)?.reasons).toEqual(['latest', 'keep-last 3']);
    expect(plan.keep.find((d) => d.step === 80)?.reasons).toEqual(['keep-last 3']);
    expect(plan.delete[0]?.reasons).toEqual(['not kept by any rule of the policy']);
    expect(plan.bytesFreed).toBe(7000);
    expect(plan.warnings).toEqual([]);
  });

  it('keep-best K by min and by max', () => {
    const cps = [
      info(1, { metrics: { loss: 0.5, acc: 0.2 } }),
      info(2, { metrics: { loss: 0.1, acc: 0.9 } }),
      info(3, { metrics: { loss: 0.3, acc: 0.95 } }),
      info(4, { metrics: { loss: 0.2, acc: 0.1 } }),
      info(5, { metrics: { loss: 0.9, acc: 0.3 } }),
      info(6, { metrics: { loss: 0.8 } }),
    ];
    const min = planRetention('r1', cps, retention({ keepBest: { k: 2, metric: 'loss', mode: 'min' } }));
    expect(steps(min.keep)).toEqual([2, 4, 6]);
    expect(min.keep.find((d) => d.step === 2)?.reasons).toEqual(['best loss (0.1)', 'keep-best 2: #1 by loss']);
    expect(min.keep.find((d) => d.step === 4)?.reasons).toEqual(['keep-best 2: #2 by loss']);
    const max = planRetention('r1', cps, retention({ keepBest: { k: 2, metric: 'acc', mode: 'max' } }));
    expect(steps(max.keep)).toEqual([2, 3, 6]);
    expect(steps(max.delete)).toEqual([1, 4, 5]);
  });

  it('keep-every-steps keeps multiples of the interval', () => {
    const plan = planRetention('r1', ten, retention({ keepEverySteps: 30 }));
    expect(steps(plan.keep)).toEqual([30, 60, 90, 100]);
  });

  it('keep-every-hours keeps the first checkpoint of each window, as TensorFlow does', () => {
    const at = (step: number, hours: number): CheckpointInfo => info(step, { createdAt: new Date(T0 + hours * HOUR).toISOString() });
    const cps = [at(1, 0), at(2, 0.5), at(3, 0.99), at(4, 1.0), at(5, 1.5), at(6, 2.2), at(7, 2.9), at(8, 3.1)];
    const plan = planRetention('r1', cps, retention({ keepEveryHours: 1 }));
    // windows open at 0 h (step 1), 1.0 h (step 4), 2.2 h (step 6); step 8 is the latest.
    expect(steps(plan.keep)).toEqual([1, 4, 6, 8]);
    expect(plan.keep.find((d) => d.step === 4)?.reasons).toEqual(['keep-every 1 h']);
    expect(steps(plan.delete)).toEqual([2, 3, 5, 7]);
  });

  it('a disk budget deletes the oldest first, down to the budget', () => {
    const plan = planRetention('r1', ten, retention({ maxBytes: 3500 }));
    expect(steps(plan.delete)).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(plan.delete[0]?.reasons).toEqual(['over the disk budget of 3.5 KB']);
    expect(plan.warnings).toEqual([]);
    const loose = planRetention('r1', ten, retention({ maxBytes: 10_000 }));
    expect(loose.delete).toEqual([]);
  });

  it('a disk budget never deletes protected ones, and warns when they alone exceed it', () => {
    const cps = [info(1), info(2, { pinned: true }), info(3, { origin: 'imported' }), info(4), info(5)];
    const plan = planRetention('r1', cps, retention({ maxBytes: 1500 }));
    expect(steps(plan.delete)).toEqual([1, 4]);
    expect(plan.warnings).toEqual(['run "r1" still uses 3.0 KB after pruning, over its budget of 1.5 KB: what is left is protected']);
  });

  it('the current best (with keepBest) and the latest survive even a budget', () => {
    const cps = [
      info(1, { metrics: { loss: 0.9 } }),
      info(2, { metrics: { loss: 0.1 } }),
      info(3, { metrics: { loss: 0.5 } }),
      info(4, { metrics: { loss: 0.7 } }),
    ];
    const plan = planRetention('r1', cps, retention({ keepBest: { k: 1, metric: 'loss', mode: 'min' }, maxBytes: 100 }));
    expect(steps(plan.keep)).toEqual([2, 4]);
    expect(steps(plan.delete)).toEqual([1, 3]);
    expect(plan.warnings).toHaveLength(1);
  });

  it('never deletes pinned, linked, imported, foreign, protected, parents of other runs, damaged or incomplete ones', () => {
    const cps = [
      info(1, { pinned: true }),
      info(2),
      info(3, { linked: true }),
      info(4, { origin: 'imported' }),
      info(5, { origin: 'foreign' }),
      info(6),
      info(7, { protectedBy: [{ kind: 'parent', reason: 'parent of run "finetune"' }] }),
      info(8, { status: 'damaged', statusReason: 'x' }),
      info(9, { status: 'incomplete', metrics: {} }),
      info(10),
      info(11),
    ];
    const plan = planRetention('r1', cps, retention({ keepLast: 1 }, ['ckpt-000000002']), {
      protectedIds: new Set(['r1/ckpt-000000006']),
    });
    expect(steps(plan.delete)).toEqual([10]);
    const reasons = (step: number): readonly string[] => plan.keep.find((d) => d.step === step)?.reasons ?? [];
    expect(reasons(1)).toEqual(['pinned']);
    expect(reasons(2)).toEqual(['pinned']);
    expect(reasons(3)).toEqual(['linked folder (not written by this store)']);
    expect(reasons(4)).toEqual(['imported (not written by this store)']);
    expect(reasons(5)).toEqual(['foreign (not written by this store)']);
    expect(reasons(6)).toEqual(['a running training was restored from it']);
    expect(reasons(7)).toEqual(['parent of run "finetune"']);
    expect(reasons(8)).toEqual(['damaged: left for you to inspect or delete by hand']);
    expect(reasons(9)).toEqual(['incomplete: left for you to inspect or delete by hand']);
    expect(reasons(11)).toEqual(['latest', 'keep-last 1']);
  });

  it('only ever plans for its own run', () => {
    const mixed = [info(1), info(2), info(3, { run: 'other' }), info(4, { run: 'other' }), info(5)];
    const plan = planRetention('r1', mixed, retention({ keepLast: 1 }));
    expect([...plan.keep, ...plan.delete].every((d) => d.id.startsWith('r1/'))).toBe(true);
    expect(steps(plan.delete)).toEqual([1, 2]);
  });

  it('an empty policy deletes nothing', () => {
    const plan = planRetention('r1', ten, retention({}));
    expect(plan.delete).toEqual([]);
    expect(plan.keep.find((d) => d.step === 10)?.reasons).toEqual(['no policy rule applies']);
  });

  it('rememberBest keeps the best value seen, even when a worse one is all that is left', () => {
    const rule = { keepBest: { k: 1, metric: 'loss', mode: 'min' as const } };
    const first = rememberBest(retention(rule), [info(1, { metrics: { loss: 0.4 } }), info(2, { metrics: { loss: 0.2 } })]);
    expect(first.bestSeen).toEqual({ metric: 'loss', mode: 'min', value: 0.2, step: 2 });
    const later = rememberBest(first, [info(3, { metrics: { loss: 0.3 } })]);
    expect(later.bestSeen).toEqual({ metric: 'loss', mode: 'min', value: 0.2, step: 2 });
    const better = rememberBest(later, [info(4, { metrics: { loss: 0.05 } })]);
    expect(better.bestSeen).toEqual({ metric: 'loss', mode: 'min', value: 0.05, step: 4 });
  });
});

interface Fixture {
  store: CheckpointStore;
  runDir: string;
  outside: string;
  base: string;
}

/**
 * r1 has steps 100…1100, each needing exactly one protection to survive a keep-last-1 policy:
 * 100 pinned, 200 imported, 300 foreign (another writer), 400 a linked folder, 500 parent of run r2,
 * 600 protected by id, 700 the best loss; 800, 900 and 1000 are unprotected; 1100 is the latest.
 */
async function protectedRun(): Promise<Fixture> {
  const { root, base } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const runDir = path.join(store.root, 'r1');
  const writer = await store.createRun('r1', { parent: null, config: {} });
  for (const step of [100, 200, 300, 500, 600, 700, 800, 900, 1000, 1100]) {
    await writer.save(trainingState(step, { metrics: { loss: step === 700 ? 0.01 : 1 + step / 1000 }, origin: step === 200 ? 'imported' : 'trained' }));
  }
  await writer.close();
  rewriteManifest(path.join(runDir, 'ckpt-000000300'), (m) => {
    m.writer = { program: 'some-other-trainer', version: '9' };
  });
  // A linked checkpoint: the folder lives outside the workspace.
  const outside = path.join(base, 'outside', 'ckpt-000000400');
  fs.mkdirSync(path.dirname(outside));
  const other = await store.createRun('scratch', { parent: null, config: {} });
  await other.save(trainingState(400, { metrics: { loss: 5 } }));
  await other.close();
  fs.renameSync(path.join(store.root, 'scratch', 'ckpt-000000400'), outside);
  fs.rmSync(path.join(store.root, 'scratch'), { recursive: true });
  fs.symlinkSync(outside, path.join(runDir, 'ckpt-000000400'));
  const child = await store.createRun('r2', { parent: { run: 'r1', step: 500 }, config: {} });
  await child.save(trainingState(10, { parent: { run: 'r1', step: 500 } }));
  await child.close();
  await store.catalog.refresh();
  await store.setPinned('r1/ckpt-000000100', true);
  await store.setPolicy('r1', { keepLast: 1, keepBest: { k: 1, metric: 'loss', mode: 'min' } });
  await store.catalog.refresh();
  return { store, runDir, outside, base };
}

describe('retention on disk', () => {
  it('a dry run touches nothing; applying deletes exactly the planned set, protections intact', async () => {
    const { store, runDir, outside, base } = await protectedRun();
    const protectedIds = new Set(['r1/ckpt-000000600']);
    const before = snapshotTree(base);
    const plan = await store.planRetention('r1', { protectedIds });
    expect(snapshotTree(base)).toEqual(before);
    expect(steps(plan.delete)).toEqual([800, 900, 1000]);
    const reasons = (step: number): readonly string[] => plan.keep.find((d) => d.step === step)?.reasons ?? [];
    expect(reasons(100)).toContain('pinned');
    expect(reasons(200)).toContain('imported (not written by this store)');
    expect(reasons(300)).toContain('foreign (not written by this store)');
    expect(reasons(400)).toContain('linked folder (not written by this store)');
    expect(reasons(500)).toContain('parent of run "r2"');
    expect(reasons(600)).toContain('a running training was restored from it');
    expect(reasons(700)[0]).toBe('best loss (0.01)');
    expect(reasons(1100)[0]).toBe('latest');
    expect(plan.bytesFreed).toBe(plan.delete.reduce((s, d) => s + (store.catalog.get(d.id)?.bytes ?? -1), 0));

    const r2Before = snapshotTree(path.join(store.root, 'r2'));
    const outsideBefore = snapshotTree(outside);
    const deleted = await store.applyRetention(plan, { protectedIds });
    expect(deleted.map((e) => e.checkpointId).sort()).toEqual(['r1/ckpt-000000800', 'r1/ckpt-000000900', 'r1/ckpt-000001000']);
    expect(new Set(deleted.map((e) => e.batch)).size).toBe(1);
    expect(deleted[0]?.reason).toBe('retention policy of run "r1"');
    expect(
      fs
        .readdirSync(runDir)
        .filter((n) => n.startsWith('ckpt-'))
        .sort(),
    ).toEqual(['100', '200', '300', '400', '500', '600', '700', '1100'].map((s) => `ckpt-${s.padStart(9, '0')}`));
    expect(fs.lstatSync(path.join(runDir, 'ckpt-000000400')).isSymbolicLink()).toBe(true);
    expect(snapshotTree(outside)).toEqual(outsideBefore);
    expect(snapshotTree(path.join(store.root, 'r2'))).toEqual(r2Before);
    expect((await store.listTrash()).map((e) => e.checkpointId).sort()).toEqual(deleted.map((e) => e.checkpointId).sort());
    expect(store.catalog.list('r1').map((c) => c.step)).toEqual([100, 200, 300, 400, 500, 600, 700, 1100]);
  });

  it('skips a checkpoint that was pinned between plan and apply', async () => {
    const { store, runDir } = await protectedRun();
    const plan = await store.planRetention('r1', { protectedIds: new Set(['r1/ckpt-000000600']) });
    expect(steps(plan.delete)).toEqual([800, 900, 1000]);
    await store.setPinned('r1/ckpt-000000900', true);
    const deleted = await store.applyRetention(plan, { protectedIds: new Set(['r1/ckpt-000000600']) });
    expect(deleted.map((e) => e.checkpointId).sort()).toEqual(['r1/ckpt-000000800', 'r1/ckpt-000001000']);
    expect(fs.existsSync(path.join(runDir, 'ckpt-000000900'))).toBe(true);
  });

  it('without the protectedIds at apply time, deletes no more than was planned', async () => {
    const { store } = await protectedRun();
    const plan = await store.planRetention('r1', { protectedIds: new Set(['r1/ckpt-000000600']) });
    const deleted = await store.applyRetention(plan);
    expect(deleted.map((e) => e.checkpointId).sort()).toEqual(['r1/ckpt-000000800', 'r1/ckpt-000000900', 'r1/ckpt-000001000']);
    expect(store.catalog.get('r1/ckpt-000000600')).toBeDefined();
  });

  it('applies a plan made with a policy given for that pass only, without storing the policy', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('r1', { parent: null, config: {} });
    for (const step of [1, 2, 3, 4]) await writer.save(trainingState(step));
    await writer.close();
    const plan = await store.planRetention('r1', { policy: { keepLast: 2 } });
    expect(steps(plan.delete)).toEqual([1, 2]);
    const deleted = await store.applyRetention(plan);
    expect(deleted.map((e) => e.checkpointId).sort()).toEqual(['r1/ckpt-000000001', 'r1/ckpt-000000002']);
    expect(store.catalog.list('r1').map((c) => c.step)).toEqual([3, 4]);
    expect(await store.getPolicy('r1')).toEqual({});
  });

  it('a policy never touches another run', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    for (const run of ['a', 'b']) {
      const writer = await store.createRun(run, { parent: null, config: {} });
      for (const step of [1, 2, 3, 4]) await writer.save(trainingState(step));
      await writer.close();
    }
    await store.catalog.refresh();
    await store.setPolicy('a', { keepLast: 1 });
    const bBefore = snapshotTree(path.join(store.root, 'b'));
    const plan = await store.planRetention('a');
    expect([...plan.keep, ...plan.delete].every((d) => d.id.startsWith('a/'))).toBe(true);
    await store.applyRetention(plan);
    expect(store.catalog.list('a').map((c) => c.step)).toEqual([4]);
    expect(store.catalog.list('b').map((c) => c.step)).toEqual([1, 2, 3, 4]);
    expect(snapshotTree(path.join(store.root, 'b'))).toEqual(bBefore);
    await rejectionOf(store.planRetention('nope'), NotFoundError);
  });

  it('refuses to prune a run our own writer holds unless it presents its lock token', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('r1', { parent: null, config: {} });
    for (const step of [1, 2, 3]) await writer.save(trainingState(step));
    await store.setPolicy('r1', { keepLast: 1 });
    const plan = await store.planRetention('r1');
    const error = await rejectionOf(store.applyRetention(plan), RefusedError);
    expect(error.problem).toContain('is being written by process');
    expect(store.catalog.list('r1')).toHaveLength(3);
    const deleted = await store.applyRetention(plan, { lockToken: writer.lock.token });
    expect(deleted.map((e) => e.checkpointId).sort()).toEqual(['r1/ckpt-000000001', 'r1/ckpt-000000002']);
    await writer.close();
  });

  it('the policy persists in retention.json across reopening, and the best seen is remembered', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('r1', { parent: null, config: {} });
    const losses: Record<number, number> = { 1: 0.9, 2: 0.2, 3: 0.5, 4: 0.6 };
    for (const step of [1, 2, 3, 4]) await writer.save(trainingState(step, { metrics: { loss: losses[step] as number } }));
    await writer.close();
    const policy = { keepLast: 1, keepBest: { k: 1, metric: 'loss', mode: 'min' as const }, keepEverySteps: 1000, maxBytes: 10_000_000 };
    await store.setPolicy('r1', policy);
    const reopened = await CheckpointStore.open(root);
    expect(await reopened.getPolicy('r1')).toEqual(policy);
    expect(readJson(path.join(reopened.root, 'r1', 'retention.json'))).toMatchObject({ policy, pinned: [], bestSeen: null });

    await reopened.applyRetention(await reopened.planRetention('r1'));
    expect(reopened.catalog.list('r1').map((c) => c.step)).toEqual([2, 4]);
    const third = await CheckpointStore.open(root);
    const remembered = await readRunRetention(path.join(third.root, 'r1'));
    expect(remembered.bestSeen).toEqual({ metric: 'loss', mode: 'min', value: 0.2, step: 2 });
    expect(remembered.policy).toEqual(policy);

    // The best is deleted by hand; a worse one later does not replace the best seen.
    await third.delete(['r1/ckpt-000000002']);
    const w = await third.openRunWriter('r1');
    await w.save(trainingState(5, { metrics: { loss: 0.7 } }));
    await w.close();
    await third.applyRetention(await third.planRetention('r1'));
    expect((await readRunRetention(path.join(third.root, 'r1'))).bestSeen).toEqual({ metric: 'loss', mode: 'min', value: 0.2, step: 2 });
  });
});
