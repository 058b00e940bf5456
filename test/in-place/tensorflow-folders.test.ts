// Issue 16's first two acceptance points through the StudioApi: the tutorial's folder (TF1 Saver,
// ten groups with .meta) and a TF2 CheckpointManager folder (timestamps), opened where they lie.
// Listing, latest as tf.train.latest_checkpoint means it, deletion by path and by id moving whole
// groups into the trash, the state file rewritten exactly as TensorFlow would write it (the expected
// text is written out here, line by line), set-latest, and undo putting everything back byte for byte.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_STATE_FILE } from '../../electron/core/formats/tf/checkpoint-state.js';
import { useTempWorkspaces } from '../store/helpers.js';
import {
  TUTORIAL_STEPS,
  copyFixture,
  folderRecord,
  groupFiles,
  namesIn,
  openStudio,
  saverStateText,
  scratchFolder,
  tutorialFolder,
} from './in-place-helpers.js';

useTempWorkspaces();

const state = (root: string): string => fs.readFileSync(path.join(root, CHECKPOINT_STATE_FILE), 'utf8');
const models = (steps: readonly number[]): string[] => steps.map((s) => `model-${s}`);
const without = (...gone: number[]): number[] => TUTORIAL_STEPS.filter((s) => !gone.includes(s));

/** What the trash holds of one entry: the names in its payload. */
function payloadOf(root: string, entryId: string): string[] {
  return namesIn(path.join(root, '.trash', entryId, 'payload'));
}

describe("the tutorial's folder (TF1 Saver) opened in place", () => {
  it('lists the ten groups with their .meta, and calls latest what tf.train.latest_checkpoint returns', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const { api } = await openStudio(root);
    const snapshot = await api.snapshot();
    expect(snapshot.runs.map((r) => [r.name, r.layout, r.latest])).toEqual([['.', 'tf-folder', 'model-10000']]);
    expect(snapshot.checkpoints.map((c) => c.id)).toEqual(models(TUTORIAL_STEPS));
    for (const c of snapshot.checkpoints) {
      expect(c.files?.map((f) => f.name).sort()).toEqual(groupFiles(c.id));
      expect([c.status, c.origin, c.source?.format]).toEqual(['unverified', 'foreign', 'tf-bundle']);
    }
    const latest = await api.latest();
    // tf.train.latest_checkpoint(dir) returns os.path.join(dir, model_checkpoint_path): the prefix's path.
    expect([latest.id, latest.path]).toEqual(['model-10000', path.join(fs.realpathSync(root), 'model-10000')]);
  });

  it('rm by path and by id move whole groups; the state file is what TensorFlow writes; undo restores it byte for byte', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const original = folderRecord(root);
    const originalState = state(root);
    const { api } = await openStudio(root);
    const real = fs.realpathSync(root);

    const [byPath] = await api.deleteCheckpoints({ targets: [path.join(root, 'model-5000')] });
    expect(byPath?.checkpointId).toBe('model-5000');
    for (const name of groupFiles('model-5000')) expect(fs.existsSync(path.join(root, name))).toBe(false);
    expect(payloadOf(real, byPath?.id ?? '')).toEqual(groupFiles('model-5000'));
    expect(state(root)).toBe(saverStateText('model-10000', models(without(5000))));

    // Deleting the latest: model_checkpoint_path passes to the newest that remains.
    const [byId] = await api.deleteCheckpoints({ targets: ['model-10000'] });
    expect(payloadOf(real, byId?.id ?? '')).toEqual(groupFiles('model-10000'));
    expect(state(root)).toBe(saverStateText('model-9000', models(without(5000, 10000))));
    expect((await api.latest()).id).toBe('model-9000');
    expect((await api.listCheckpoints()).map((c) => c.id)).toEqual(models(without(5000, 10000)));

    // Undo, one batch at a time: the newest deletion first.
    expect((await api.undoDelete({})).map((e) => e.checkpointId)).toEqual(['model-10000']);
    expect(state(root)).toBe(saverStateText('model-10000', models(without(5000))));
    expect((await api.undoDelete({})).map((e) => e.checkpointId)).toEqual(['model-5000']);
    expect(state(root)).toBe(originalState);
    // Every file back, with its size, time and bytes; only the state file was written again (same bytes, a new time).
    const after = folderRecord(root, { skip: ['.studio', '.trash'] });
    const before = new Map(original);
    for (const record of [after, before]) {
      record.delete('');
      record.delete(CHECKPOINT_STATE_FILE);
    }
    expect([...after]).toEqual([...before]);
    expect((await api.listTrash()).entries).toEqual([]);
    expect((await api.latest()).id).toBe('model-10000');
  });

  it('set-latest moves the chosen path to the end, as Saver does when it saves that prefix again', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const { api } = await openStudio(root);
    expect((await api.makeLatest({ target: 'model-5000' })).checkpoint.id).toBe('model-5000');
    expect(state(root)).toBe(saverStateText('model-5000', [...models(without(5000)), 'model-5000']));
    expect((await api.latest()).id).toBe('model-5000');
    await api.makeLatest({ target: 'model-10000' });
    expect(state(root)).toBe(saverStateText('model-10000', [...models(without(5000, 10000)), 'model-5000', 'model-10000']));
    // Making the latest latest changes nothing.
    await api.makeLatest({ target: 'model-10000' });
    expect(state(root)).toBe(saverStateText('model-10000', [...models(without(5000, 10000)), 'model-5000', 'model-10000']));
  });

  it('set-latest is undone like a deletion: the state file goes back byte for byte, and nothing else moved', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const { api } = await openStudio(root);
    const original = state(root);
    await api.makeLatest({ target: 'model-3000' });
    expect(state(root)).not.toBe(original);
    const [entry] = (await api.listTrash()).entries;
    expect(entry).toMatchObject({ checkpointId: 'model-3000', bytes: 0, reason: 'made latest (before: model-10000)' });
    expect((await api.undoDelete()).map((e) => e.checkpointId)).toEqual(['model-3000']);
    expect(state(root)).toBe(original);
    expect((await api.latest()).id).toBe('model-10000');
    expect((await api.listTrash()).entries).toEqual([]);
    expect((await api.listCheckpoints()).length).toBe(10);
  });

  it('undoing set-latest after TensorFlow rewrote the state file is refused with the file named, and leaves TensorFlow’s file as it is', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const { api } = await openStudio(root);
    await api.makeLatest({ target: 'model-3000' });
    // The training program saved again meanwhile: its state file is the one that counts now.
    const written = saverStateText('model-10000', models(TUTORIAL_STEPS));
    fs.writeFileSync(path.join(root, CHECKPOINT_STATE_FILE), written);
    await expect(api.undoDelete()).rejects.toThrow(/checkpoint was changed since \(another program wrote it\); it is left as it is/);
    expect(state(root)).toBe(written);
    expect((await api.listTrash()).entries.map((e) => e.checkpointId)).toEqual(['model-3000']);
  });

  it("the store's own rewrite does not count against the quiet period: delete, then set-latest at once", async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const { api } = await openStudio(root, { quietSeconds: 10 });
    await api.deleteCheckpoints({ targets: ['model-1000'] });
    await api.makeLatest({ target: 'model-2000' });
    expect(state(root)).toBe(saverStateText('model-2000', [...models(without(1000, 2000)), 'model-2000']));
  });
});

describe('a TF2 CheckpointManager folder opened in place', () => {
  const TIMES = { 17: '1673735799.685766', 18: '1673735913.342593', 19: '1673736140.596798' } as const;
  /** The state file as CheckpointManager writes it: paths, then their timestamps in the same order, then last_preserved_timestamp. */
  const managerState = (latest: 17 | 18 | 19, kept: readonly (17 | 18 | 19)[]): string =>
    [
      `model_checkpoint_path: "ckpt-${latest}"`,
      ...kept.map((n) => `all_model_checkpoint_paths: "ckpt-${n}"`),
      ...kept.map((n) => `all_model_checkpoint_timestamps: ${TIMES[n]}`),
      'last_preserved_timestamp: 1673735591.495455',
      '',
    ].join('\n');

  function managerFolder(): string | null {
    return copyFixture(scratchFolder().root, ['tf2-checkpoint', 'tictactoe-manager']);
  }

  it('reads the fixture as the text the test expects, and dates each checkpoint by its timestamp', async () => {
    const root = managerFolder();
    if (root === null) return;
    expect(state(root)).toBe(managerState(19, [17, 18, 19]));
    const { api } = await openStudio(root);
    const listed = await api.listCheckpoints();
    expect(listed.map((c) => [c.id, c.createdAt])).toEqual([
      ['ckpt-17', new Date(1673735799685.766).toISOString()],
      ['ckpt-18', new Date(1673735913342.593).toISOString()],
      ['ckpt-19', new Date(1673736140596.798).toISOString()],
    ]);
    expect((await api.latest()).id).toBe('ckpt-19');
  });

  it('a deleted path leaves with its timestamp; last_preserved_timestamp stays; undo restores the file', async () => {
    const root = managerFolder();
    if (root === null) return;
    const { api } = await openStudio(root);
    await api.deleteCheckpoints({ targets: ['ckpt-18'] });
    expect(state(root)).toBe(managerState(19, [17, 19]));
    await api.deleteCheckpoints({ targets: ['ckpt-19'] });
    expect(state(root)).toBe(managerState(17, [17]));
    await api.undoDelete({});
    await api.undoDelete({});
    expect(state(root)).toBe(managerState(19, [17, 18, 19]));
  });

  it('set-latest moves the path with its timestamp to the end', async () => {
    const root = managerFolder();
    if (root === null) return;
    const { api } = await openStudio(root);
    await api.makeLatest({ target: 'ckpt-17' });
    expect(state(root)).toBe(managerState(17, [18, 19, 17]));
    await api.makeLatest({ target: 'ckpt-18' });
    expect(state(root)).toBe(managerState(18, [19, 17, 18]));
    expect((await api.latest()).id).toBe('ckpt-18');
  });
});
