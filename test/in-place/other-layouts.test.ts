// The layouts beside TensorFlow's (issue 16): Keras ModelCheckpoint files (one run, a checkpoint per
// epoch, what the name leaves unclear said), a lone .h5 as its own run, a .keras zip listed and
// deleted; a Hugging Face Trainer's output (checkpoint-N/ folders moved whole, metrics at their
// step from trainer_state.json); TensorBoard runs (a TF2 scalar file read to its exact values,
// Keras' train/ and validation/ as one run, a checkpoint's metrics at its step or a note that none).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckpointInfo } from '../../electron/contract.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { copySample } from '../formats/safetensors-helpers.js';
import { kerasEntries, kerasWeightsH5, zipOf } from '../formats/keras-files.js';
import { age, copyFixture, namesIn, openStudio, scratchFolder } from './in-place-helpers.js';

useTempWorkspaces();

const H5 = ['keras-h5', 'tictactoe', 'weights_iteration.h5'];

function byId(listed: readonly CheckpointInfo[]): Map<string, CheckpointInfo> {
  return new Map(listed.map((c) => [c.id, c]));
}

describe('Keras files', () => {
  it('ModelCheckpoint copies are one run with a checkpoint per epoch; a lone .h5 is a run of its own', async () => {
    const { root } = scratchFolder();
    for (const name of ['weights.01-0.52.hdf5', 'weights.02-0.41.hdf5', 'weights.03-0.45.hdf5'])
      if (copyFixture(path.join(root, 'fit', name), H5, 0) === null) return;
    copyFixture(path.join(root, 'saved', 'weights_iteration.h5'), H5, 0);
    age(root);
    const { api } = await openStudio(root);
    expect((await api.listRuns()).map((r) => [r.name, r.layout])).toEqual([
      ['fit', 'keras-files'],
      ['saved/weights_iteration.h5', 'keras-files'],
    ]);
    const fit = await api.listCheckpoints({ run: 'fit' });
    expect(fit.map((c) => [c.id, c.epoch, c.source?.format])).toEqual([
      ['fit/weights.01-0.52.hdf5', 1, 'keras-h5'],
      ['fit/weights.02-0.41.hdf5', 2, 'keras-h5'],
      ['fit/weights.03-0.45.hdf5', 3, 'keras-h5'],
    ]);
    // The template's second number is val_loss, but the name does not say so: that is said, not guessed.
    expect(fit[0]?.notes).toEqual([
      'epoch 1 from the name weights.01-0.52.hdf5',
      '0.52 in the name weights.01-0.52.hdf5 is not named there; which metric it is is not known.',
    ]);
    expect((await api.latest({ run: 'fit' })).id).toBe('fit/weights.03-0.45.hdf5');
    const [lone] = await api.listCheckpoints({ run: 'saved/weights_iteration.h5' });
    expect([lone?.id, lone?.source?.format, lone?.files?.map((f) => f.name)]).toEqual(['saved/weights_iteration.h5', 'keras-h5', ['weights_iteration.h5']]);
    expect((await api.inspect({ target: 'fit/weights.02-0.41.hdf5' })).map((t) => t.name)).toContain('dense/dense/kernel:0');
  });

  it('a name whose number Keras does not explain is an epoch said to be a guess', async () => {
    const { root } = scratchFolder();
    for (const name of ['model_5.h5', 'model_6.h5']) if (copyFixture(path.join(root, name), H5, 0) === null) return;
    age(root);
    const { api } = await openStudio(root);
    const [first] = await api.listCheckpoints();
    expect(first?.epoch).toBe(5);
    expect(first?.notes).toEqual(['The number 5 in model_5.h5 is taken for the epoch, but the name does not say what it counts.']);
  });

  it('a .keras zip is listed, inspected and deleted (moved into the trash) and restored', async () => {
    const { root, base } = scratchFolder();
    fs.mkdirSync(root);
    const zip = await zipOf(kerasEntries(await kerasWeightsH5(path.join(base, 'scratch.h5'))));
    fs.writeFileSync(path.join(root, 'model.keras'), zip);
    age(root);
    const { api } = await openStudio(root);
    const [listed] = await api.listCheckpoints();
    expect([listed?.id, listed?.run, listed?.source?.format, listed?.bytes]).toEqual(['model.keras', 'model.keras', 'keras-v3', zip.length]);
    expect((await api.inspect({ target: 'model.keras' })).length).toBeGreaterThan(0);
    const [entry] = await api.deleteCheckpoints({ targets: ['model.keras'] });
    expect(namesIn(root)).not.toContain('model.keras');
    expect(fs.readFileSync(path.join(root, '.trash', entry?.id ?? '', 'payload', 'model.keras'))).toEqual(zip);
    expect(await api.listCheckpoints()).toEqual([]);
    await api.undoDelete({});
    expect(fs.readFileSync(path.join(root, 'model.keras'))).toEqual(zip);
  });
});

describe("a Hugging Face Trainer's output", () => {
  /** trainer_state.json as Trainer writes it at `step` (its log history up to there; python's json.dumps). */
  function trainerState(step: number): string {
    const history = [];
    for (let at = 100; at <= step; at += 100) history.push({ epoch: at / 1000, learning_rate: 5e-5, loss: 1 / at, step: at });
    history.push({ epoch: step / 1000, eval_loss: 100 / step, eval_runtime: 1.5, step });
    return `${JSON.stringify({ epoch: step / 1000, global_step: step, log_history: history, max_steps: 1000, save_steps: 500 }, null, 2)}\n`;
  }

  it('is one run; each checkpoint-N/ is moved whole; its metrics are those at its step', async () => {
    const { root } = scratchFolder();
    for (const step of [500, 1000]) {
      const dir = path.join(root, 'out', `checkpoint-${step}`);
      copySample('overall', dir, 'model.safetensors');
      fs.writeFileSync(path.join(dir, 'trainer_state.json'), trainerState(step));
      fs.writeFileSync(path.join(dir, 'optimizer.pt'), 'kept, not read');
    }
    age(root);
    const { api } = await openStudio(root);
    expect((await api.listRuns()).map((r) => [r.name, r.layout])).toEqual([['out', 'hf-trainer']]);
    const listed = byId(await api.listCheckpoints());
    expect([...listed.keys()]).toEqual(['out/checkpoint-500', 'out/checkpoint-1000']);
    expect(listed.get('out/checkpoint-500')?.metrics).toMatchObject({ loss: 1 / 500, eval_loss: 0.2, epoch: 0.5 });
    expect(listed.get('out/checkpoint-1000')?.files?.map((f) => f.name)).toEqual([
      'checkpoint-1000/model.safetensors',
      'checkpoint-1000/optimizer.pt',
      'checkpoint-1000/trainer_state.json',
    ]);
    expect((await api.best({ metric: 'eval_loss' })).id).toBe('out/checkpoint-1000');
    // The run's history is the newest checkpoint's log.
    const history = (await api.metricHistory({ run: 'out' })).records;
    expect(history.filter((r) => typeof r['loss'] === 'number').map((r) => r['step'])).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);

    const [entry] = await api.deleteCheckpoints({ targets: ['out/checkpoint-500'] });
    expect(namesIn(path.join(root, 'out'))).toEqual(['checkpoint-1000']);
    expect(namesIn(path.join(root, '.trash', entry?.id ?? '', 'payload'))).toEqual(['checkpoint-500']);
    expect(namesIn(path.join(root, '.trash', entry?.id ?? '', 'payload', 'checkpoint-500'))).toEqual([
      'model.safetensors',
      'optimizer.pt',
      'trainer_state.json',
    ]);
    await api.undoDelete({});
    expect(namesIn(path.join(root, 'out'))).toEqual(['checkpoint-1000', 'checkpoint-500']);
  });
});

describe('TensorBoard runs', () => {
  it("a TF2 tf.summary.scalar file is a run whose history is exactly the fixture's values", async () => {
    const { root } = scratchFolder();
    if (copyFixture(path.join(root, 'logs', 'scalar'), ['tensorboard', 'tf2-summary-scalar']) === null) return;
    const { api } = await openStudio(root);
    expect((await api.listRuns()).map((r) => [r.name, r.layout, r.checkpointCount])).toEqual([['logs/scalar', 'tensorboard', 0]]);
    const { records, next } = await api.metricHistory({ run: 'logs/scalar' });
    expect(next).toBeNull();
    // The generator wrote tf.summary.scalar("my_metric", 0.5 * step, step=step) for steps 0-99 (SOURCES.md 7a).
    expect(records.map((r) => [r['kind'], r['step'], r['my_metric']])).toEqual(Array.from({ length: 100 }, (_, step) => ['train', step, 0.5 * step]));
    expect(records.every((r) => typeof r['time'] === 'string' && r['time'].startsWith('2020-03-29'))).toBe(true);
  });

  it("Keras' train/ and validation/ are one run, the validation metrics named apart", async () => {
    const { root } = scratchFolder();
    if (copyFixture(path.join(root, 'reuters'), ['tensorboard', 'keras-callback-reuters']) === null) return;
    const { api } = await openStudio(root);
    expect((await api.listRuns()).map((r) => r.name)).toEqual(['reuters']);
    const { records } = await api.metricHistory({ run: 'reuters' });
    const named = (kind: string, metric: string): number[] =>
      records.filter((r) => r['kind'] === kind && typeof r[metric] === 'number').map((r) => r['step'] as number);
    const epochs = Array.from({ length: 20 }, (_, i) => i);
    expect(named('train', 'loss')).toEqual(epochs);
    expect(named('train', 'accuracy')).toEqual(epochs);
    expect(named('validation', 'val_loss')).toEqual(epochs);
    expect(named('validation', 'val_accuracy')).toEqual(epochs);
  });

  it('a checkpoint beside event files carries the metrics at its step; one at no logged step says so', async () => {
    const { root, base } = scratchFolder();
    if (copyFixture(root, ['tensorboard', 'tf2-summary-scalar']) === null) return;
    const tutorial = copyFixture(path.join(base, 'tf1'), ['tf1-saver', 'mnist-softmax-10steps']) as string;
    for (const step of [20, 150])
      for (const suffix of ['.index', '.data-00000-of-00001'])
        fs.copyFileSync(path.join(tutorial, `model-1000${suffix}`), path.join(root, `model-${step}${suffix}`));
    age(root);
    const { api } = await openStudio(root);
    const listed = byId(await api.listCheckpoints());
    expect(listed.get('model-20')?.metrics).toEqual({ my_metric: 10 });
    expect(listed.get('model-150')?.metrics).toEqual({});
    expect(listed.get('model-150')?.notes.some((n) => n.startsWith('no metric of its run is logged at its step 150'))).toBe(true);
  });
});
