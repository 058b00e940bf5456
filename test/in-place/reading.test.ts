// Reading changes nothing (issue 16): a workspace of other programs' folders (a TF1 Saver folder, a
// TensorBoard run with a TensorFlow group beside its event file, Keras files and a Keras callback
// run) opened as the app opens it (to write, watched), listed, asked for latest and best, inspected,
// charted and exported from leaves every file and folder as it was (names, sizes, times, bytes) and
// creates neither .studio nor .trash. Verify creates .studio with its cache, and nothing else.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempWorkspaces } from '../store/helpers.js';
import { age, copyFixture, folderRecord, namesIn, openStudio, scratchFolder } from './in-place-helpers.js';

useTempWorkspaces();

/** Several kinds of folders under one workspace, an hour old; null without the shared fixtures. */
function mixedWorkspace(): string | null {
  const { root } = scratchFolder();
  if (copyFixture(path.join(root, 'tf1'), ['tf1-saver', 'mnist-softmax-10steps'], 0) === null) return null;
  copyFixture(path.join(root, 'board'), ['tensorboard', 'tf2-summary-scalar'], 0);
  copyFixture(path.join(root, 'reuters'), ['tensorboard', 'keras-callback-reuters'], 0);
  // A TensorFlow group saved beside the event file, at step 40 of its 100 (my_metric = 0.5 * step).
  for (const suffix of ['.index', '.data-00000-of-00001'])
    fs.copyFileSync(path.join(root, 'tf1', `model-1000${suffix}`), path.join(root, 'board', `model-40${suffix}`));
  fs.mkdirSync(path.join(root, 'keras'));
  copyFixture(path.join(root, 'keras', 'weights.01-0.50.hdf5'), ['keras-h5', 'tictactoe', 'weights_iteration.h5'], 0);
  copyFixture(path.join(root, 'keras', 'weights.02-0.40.hdf5'), ['keras-h5', 'tictactoe', 'weights_iteration.h5'], 0);
  age(root);
  return root;
}

describe('reading a folder in place', () => {
  it('opening, listing, latest, best, inspect, charting and export change nothing and create nothing', async () => {
    const root = mixedWorkspace();
    if (root === null) return;
    const before = folderRecord(root);
    const elsewhere = scratchFolder().base;
    const { api, studio } = await openStudio(root, { watch: true });

    const snapshot = await api.snapshot();
    expect(snapshot.runs.map((r) => [r.name, r.layout])).toEqual([
      ['board', 'tf-folder'],
      ['keras', 'keras-files'],
      ['reuters', 'tensorboard'],
      ['tf1', 'tf-folder'],
    ]);
    expect((await api.latest({ run: 'tf1' })).id).toBe('tf1/model-10000');
    expect((await api.latest({ run: 'keras' })).id).toBe('keras/weights.02-0.40.hdf5');
    expect((await api.best({ metric: 'my_metric', mode: 'max' })).id).toBe('board/model-40');
    for (const target of ['tf1/model-10000', 'board/model-40', 'keras/weights.01-0.50.hdf5']) expect((await api.inspect({ target })).length).toBeGreaterThan(0);
    expect((await api.metricHistory({ run: 'board' })).records).toHaveLength(100);
    expect((await api.metricHistory({ run: 'reuters' })).records.length).toBeGreaterThan(0);
    await api.runConfig({ run: 'reuters' });
    await api.marks({ metric: 'my_metric', mode: 'max' });
    const exported = await api.exportCheckpoint({ target: 'tf1/model-10000', format: 'safetensors', out: path.join(elsewhere, 'model.safetensors') });
    expect(exported.files.length).toBeGreaterThan(0);
    await studio.close();

    expect(folderRecord(root)).toEqual(before);
    expect(namesIn(root)).not.toContain('.studio');
    expect(namesIn(root)).not.toContain('.trash');
  });

  it('verify creates .studio with its cache and nothing else', async () => {
    const root = mixedWorkspace();
    if (root === null) return;
    const before = folderRecord(root);
    const { api } = await openStudio(root);
    const { results, warnings } = await api.verify({ targets: [] });
    expect(warnings).toEqual([]);
    expect(results.length).toBe(13);
    expect(results.filter((r) => !r.ok).map((r) => r.path)).toEqual([]);
    expect(namesIn(path.join(root, '.studio'))).toEqual(['verified.json']);
    // The workspace's own folder gained .studio (its time changed with it); nothing else changed.
    const after = folderRecord(root, { skip: ['.studio'] });
    const unchanged = new Map(before);
    after.delete('');
    unchanged.delete('');
    expect(after).toEqual(unchanged);
    expect((await api.listCheckpoints()).every((c) => c.status === 'verified')).toBe(true);
  });
});
