// TensorFlow groups as a whole (issue 16): a group missing a shard is incomplete (never latest or
// best, kept by retention), a state file naming checkpoints that are not there says which, and
// retention on a folder read in place moves the oldest groups as one batch with the state file
// rewritten once, keeping the newest and any still being written; undo restores all of it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrashEntry } from '../../electron/contract.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { HOUR_MS, TUTORIAL_STEPS, age, copyFixture, openStudio, saverStateText, scratchFolder, tutorialFolder } from './in-place-helpers.js';

useTempWorkspaces();

const STATE = 'checkpoint';
const models = (steps: readonly number[]): string[] => steps.map((s) => `model-${s}`);
const state = (root: string): string => fs.readFileSync(path.join(root, STATE), 'utf8');

/** A group being saved as TensorFlow saves a sharded one: the index and the first of two shards, the second not yet there. */
function growingGroup(root: string, prefix: string, from = path.join(root, 'model-10000')): void {
  fs.copyFileSync(`${from}.index`, path.join(root, `${prefix}.index`));
  fs.copyFileSync(`${from}.data-00000-of-00001`, path.join(root, `${prefix}.data-00000-of-00002`));
  age(path.join(root, `${prefix}.index`));
  age(path.join(root, `${prefix}.data-00000-of-00002`));
}

/** The trash record of an entry: the rewrites the batch made beside its moves. */
function recordOf(root: string, entry: TrashEntry): { inPlace: { rewrites: { name: string; before: string | null; after: string | null }[] } } {
  return JSON.parse(fs.readFileSync(path.join(root, '.trash', entry.id, 'entry.json'), 'utf8')) as {
    inPlace: { rewrites: { name: string; before: string | null; after: string | null }[] };
  };
}

describe('groups', () => {
  it('a group missing a shard is incomplete, never latest, and says what is missing', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    growingGroup(root, 'model-11000');
    // The state file's own latest loses its data shard too: latest passes to the highest whole one.
    fs.rmSync(path.join(root, 'model-10000.data-00000-of-00001'));
    const { api } = await openStudio(root);
    const listed = await api.listCheckpoints();
    const byId = new Map(listed.map((c) => [c.id, c]));
    expect([byId.get('model-11000')?.status, byId.get('model-11000')?.statusReason]).toEqual(['incomplete', 'model-11000.data-00001-of-00002 is not there']);
    expect([byId.get('model-10000')?.status, byId.get('model-10000')?.statusReason]).toEqual([
      'incomplete',
      'no data shard (model-10000.data-00000-of-00001) is there',
    ]);
    expect((await api.latest()).id).toBe('model-9000');
    const [run] = await api.listRuns();
    expect(run?.notes).toContain('the checkpoint file calls model-10000 latest, but it is not here whole');
    expect(run?.notes).toContain('model-11000 is here but not in the checkpoint file');
  });

  it('a state file naming checkpoints that are not here says which', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    for (const suffix of ['.index', '.data-00000-of-00001', '.meta']) {
      fs.rmSync(path.join(root, `model-3000${suffix}`));
      fs.rmSync(path.join(root, `model-7000${suffix}`));
    }
    const { api } = await openStudio(root);
    const [run] = await api.listRuns();
    expect(run?.notes).toEqual(['the checkpoint file lists model-3000, model-7000, which are not here']);
    expect((await api.listCheckpoints()).map((c) => c.id)).toEqual(models(TUTORIAL_STEPS.filter((s) => s !== 3000 && s !== 7000)));
  });

  it('an incomplete group is never best, though its step carries the best value', async () => {
    const { root } = scratchFolder();
    if (copyFixture(root, ['tensorboard', 'tf2-summary-scalar']) === null) return;
    const tutorial = copyFixture(path.join(scratchFolder().base, 'tf1'), ['tf1-saver', 'mnist-softmax-10steps']) as string;
    // Groups saved beside the event file at steps 30 and 60, and one at 99 still being written.
    for (const step of [30, 60])
      for (const suffix of ['.index', '.data-00000-of-00001'])
        fs.copyFileSync(path.join(tutorial, `model-1000${suffix}`), path.join(root, `model-${step}${suffix}`));
    growingGroup(root, 'model-99', path.join(tutorial, 'model-1000'));
    age(root);
    const { api } = await openStudio(root);
    const listed = await api.listCheckpoints();
    expect(listed.map((c) => [c.id, c.status, c.metrics['my_metric']])).toEqual([
      ['model-30', 'unverified', 15],
      ['model-60', 'unverified', 30],
      ['model-99', 'incomplete', 49.5],
    ]);
    expect((await api.best({ metric: 'my_metric', mode: 'max' })).id).toBe('model-60');
    expect((await api.latest()).id).toBe('model-60');
  });
});

describe('retention on a folder read in place', () => {
  it('moves the oldest as one batch, the state file rewritten once; keeps the newest and one still being written; undo restores all', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    growingGroup(root, 'model-11000');
    const original = state(root);
    const { api } = await openStudio(root);
    const [plan] = await api.planRetention({ run: '.', policy: { keepLast: 2 } });
    expect(plan?.delete.map((d) => d.id)).toEqual(models(TUTORIAL_STEPS.slice(0, 8)));
    const kept = new Map(plan?.keep.map((k) => [k.id, k.reasons]));
    expect(kept.get('model-11000')).toContain('incomplete: left for you to inspect or delete by hand');
    expect(kept.get('model-10000')).toContain('the newest group of a folder another program writes');

    const trashed = await api.applyRetention({ plans: plan ? [plan] : [] });
    expect(trashed.map((e) => e.checkpointId).sort()).toEqual(models(TUTORIAL_STEPS.slice(0, 8)).sort());
    expect(new Set(trashed.map((e) => e.batch)).size).toBe(1);
    const final = saverStateText('model-10000', models([9000, 10000]));
    expect(state(root)).toBe(final);
    // Once for the whole batch: every entry records the one rewrite, from the original text to the final one.
    for (const entry of trashed) expect(recordOf(fs.realpathSync(root), entry).inPlace.rewrites).toEqual([{ name: STATE, before: original, after: final }]);
    expect((await api.listCheckpoints()).map((c) => c.id)).toEqual(models([9000, 10000, 11000]));

    expect((await api.undoDelete({})).length).toBe(8);
    expect(state(root)).toBe(original);
    expect((await api.listCheckpoints()).map((c) => c.id)).toEqual(models([...TUTORIAL_STEPS, 11000]));
  });

  it('keeps the newest group even when the policy would not', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const { api } = await openStudio(root, { quietSeconds: 0 });
    // keep-every 3000 steps keeps 3000, 6000 and 9000; the newest group stays all the same.
    const [plan] = await api.planRetention({ run: '.', policy: { keepEverySteps: 3000 } });
    expect(plan?.keep.map((k) => k.id)).toEqual(models([3000, 6000, 9000, 10000]));
    await api.applyRetention({ plans: plan ? [plan] : [] });
    expect(state(root)).toBe(saverStateText('model-10000', models([3000, 6000, 9000, 10000])));
  });

  it("after Make latest rolled the folder back, keeps both the state file's latest and the newest group, each named for what it is", async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const { api } = await openStudio(root, { quietSeconds: 0 });
    await api.makeLatest({ target: 'model-3000' });
    const [plan] = await api.planRetention({ run: '.', policy: { keepLast: 1 } });
    const kept = new Map(plan?.keep.map((k) => [k.id, k.reasons]));
    expect([...kept.keys()].sort()).toEqual(models([10000, 3000]));
    expect(kept.get('model-3000')).toEqual(['latest']);
    expect(kept.get('model-10000')).toEqual(['the newest group of a folder another program writes', 'keep-last 1']);
  });

  it('a saved policy of a folder read in place lives in .studio and is applied by prune without flags', async () => {
    const root = tutorialFolder(HOUR_MS);
    if (root === null) return;
    const { api } = await openStudio(root);
    await api.setRetentionPolicy({ run: '.', policy: { keepLast: 3 } });
    expect(fs.existsSync(path.join(root, '.studio', 'in-place.json'))).toBe(true);
    const plans = await api.planRetention({ run: '.' });
    await api.applyRetention({ plans });
    expect(state(root)).toBe(saverStateText('model-10000', models([8000, 9000, 10000])));
  });
});
