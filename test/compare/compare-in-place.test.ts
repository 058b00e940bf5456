// Two checkpoints of other programs' folders read in place, compared by their ids in the
// workspace: a TensorFlow Saver folder's first and last checkpoints (their weights moved, the
// step counter too), and two Keras .h5 files holding the same weights (every difference 0).
// Comparing reads only: every file and folder is left as it was. Skips without the shared fixtures.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempWorkspaces } from '../store/helpers.js';
import { age, copyFixture, folderRecord, namesIn, openStudio, scratchFolder } from '../in-place/in-place-helpers.js';

useTempWorkspaces();

describe('comparing checkpoints read in place', () => {
  it('compares a TensorFlow folder’s checkpoints and two Keras files by id, and changes nothing', { timeout: 60_000 }, async () => {
    const { root } = scratchFolder();
    if (copyFixture(path.join(root, 'tf1'), ['tf1-saver', 'mnist-softmax-10steps'], 0) === null) return;
    fs.mkdirSync(path.join(root, 'keras'));
    for (const name of ['weights.01-0.50.hdf5', 'weights.02-0.40.hdf5'])
      copyFixture(path.join(root, 'keras', name), ['keras-h5', 'tictactoe', 'weights_iteration.h5'], 0);
    age(root);
    const before = folderRecord(root);
    const { api, studio } = await openStudio(root, { watch: true });

    const tf = await api.compareCheckpoints({ a: 'tf1/model-1000', b: 'latest' });
    expect(tf.a).toMatchObject({ label: expect.stringContaining('model-1000'), format: 'tf-bundle' });
    expect(tf.b).toMatchObject({ label: expect.stringContaining('model-10000'), format: 'tf-bundle' });
    expect(tf.tensors.length).toBeGreaterThan(0);
    expect(tf.onlyInA).toEqual([]);
    expect(tf.onlyInB).toEqual([]);
    const moved = tf.tensors.filter((t) => (t.l2Diff ?? 0) > 0);
    expect(moved.length).toBeGreaterThan(0);
    for (const t of tf.tensors) expect(t.relChange === null || t.relChange >= 0, t.name).toBe(true);

    const keras = await api.compareCheckpoints({ a: 'keras/weights.01-0.50.hdf5', b: 'keras/weights.02-0.40.hdf5' });
    expect(keras.tensors.length).toBeGreaterThan(0);
    for (const t of keras.tensors) expect(t, t.name).toMatchObject({ l2Diff: 0, maxAbsDiff: 0, relChange: 0, stoppedMoving: true });
    await studio.close();

    expect(folderRecord(root)).toEqual(before);
    expect(namesIn(root)).not.toContain('.studio');
    expect(namesIn(root)).not.toContain('.trash');
  });
});
