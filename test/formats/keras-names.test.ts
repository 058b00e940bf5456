// Keras checkpoint file names: what ModelCheckpoint's templates put in them (str.format with
// epoch=epoch + 1, batch=batch + 1 and the logs), and how a folder of them forms runs.
import { describe, expect, it } from 'vitest';
import { groupKerasCheckpoints, metricsFromName, parseKerasCheckpointName } from '../../electron/core/formats/keras/checkpoint-names.js';

function parsed(name: string): Record<string, unknown> {
  const result = parseKerasCheckpointName(name);
  if (result === null) throw new Error(`${name} not recognised`);
  const { epoch, batch, step, metrics, unnamed, guess, template, kind } = result;
  return { epoch, batch, step, metrics, unnamed, guess, template, kind };
}

describe('parseKerasCheckpointName', () => {
  it('takes the epoch from the templates Keras documents, and leaves a bare second number unnamed', () => {
    // keras.callbacks.ModelCheckpoint's docstring example (Keras 2): weights.{epoch:02d}-{val_loss:.2f}.hdf5
    expect(parsed('weights.05-0.35.hdf5')).toEqual({
      epoch: 5,
      batch: null,
      step: null,
      metrics: {},
      unnamed: [0.35],
      guess: null,
      template: 'weights.{epoch}-{#}.hdf5',
      kind: 'h5',
    });
    // Keras 3's docstring: "{epoch:02d}-{val_loss:.2f}.keras" and "{epoch:02d}-{val_loss:.2f}.weights.h5".
    expect(parsed('07-0.4123.keras')).toMatchObject({ epoch: 7, unnamed: [0.4123], guess: null, template: '{epoch}-{#}.keras', kind: 'keras' });
    expect(parsed('07-0.41.weights.h5')).toMatchObject({ epoch: 7, template: '{epoch}-{#}.weights.h5', kind: 'weights.h5' });
    expect(parsed('model-012.h5')).toMatchObject({ epoch: 12, guess: null, template: 'model-{epoch}.h5' });
    expect(parsed('ckpt-3.weights.h5')).toMatchObject({ epoch: 3, guess: null });
    expect(parsed('model.20-0.98.h5')).toMatchObject({ epoch: 20, unnamed: [0.98], guess: null });
  });

  it('takes a number right after "epoch" for the epoch, and metrics only where their names appear', () => {
    expect(parsed('epoch_10.h5')).toMatchObject({ epoch: 10, guess: null, template: 'epoch_{epoch}.h5' });
    expect(parsed('model_epoch03_val_loss0.3512_val_accuracy-0.91.keras')).toMatchObject({
      epoch: 3,
      metrics: { val_loss: 0.3512, val_accuracy: 0.91 },
      unnamed: [],
      guess: null,
    });
    expect(parsed('weights.02-loss=1.25.hdf5')).toMatchObject({ epoch: 2, metrics: { loss: 1.25 } });
    expect(parsed('run-epoch-4-batch-200.weights.h5')).toMatchObject({ epoch: 4, batch: 200 });
    expect(parsed('model-step-1500.keras')).toMatchObject({ epoch: null, step: 1500, guess: null });
  });

  it('says so when the epoch is a guess, and gives none when several numbers could be it', () => {
    expect(parsed('model_5.keras')).toMatchObject({
      epoch: 5,
      guess: 'The number 5 in model_5.keras is taken for the epoch, but the name does not say what it counts.',
    });
    expect(parsed('mnist3.h5')).toMatchObject({ epoch: 3, guess: expect.stringMatching(/^The number 3 in mnist3\.h5 is taken for the epoch/) });
    expect(parsed('run2_model_7.h5')).toMatchObject({ epoch: null, unnamed: [2, 7], guess: null });
    expect(parsed('best_model.keras')).toMatchObject({ epoch: null, unnamed: [], template: 'best_model.keras' });
  });

  it('is not fooled by names that are not Keras files', () => {
    for (const name of ['model.json', 'weights.bin', '.h5', 'model.safetensors', 'checkpoint']) expect(parseKerasCheckpointName(name)).toBeNull();
    expect(parseKerasCheckpointName('MODEL-3.H5')).toMatchObject({ epoch: 3, kind: 'h5' });
  });

  it('gives the epoch and named metrics as metrics', () => {
    expect(metricsFromName(parseKerasCheckpointName('weights.05-val_loss0.35.hdf5') as NonNullable<ReturnType<typeof parseKerasCheckpointName>>)).toEqual({
      epoch: 5,
      val_loss: 0.35,
    });
  });
});

describe('groupKerasCheckpoints', () => {
  it('one run for files of one template carrying an epoch, ordered by epoch; a run per file otherwise', () => {
    const runs = groupKerasCheckpoints([
      'weights.10-0.21.hdf5',
      'weights.02-0.55.hdf5',
      'weights.09-0.23.hdf5',
      'best_model.keras',
      'final.weights.h5',
      'notes.txt',
      'model_5.keras',
    ]);
    expect(runs.map((run) => [run.label, run.files.map((f) => f.name)])).toEqual([
      ['best_model.keras', ['best_model.keras']],
      ['final.weights.h5', ['final.weights.h5']],
      ['model_5.keras', ['model_5.keras']],
      ['weights.{epoch}-{#}.hdf5', ['weights.02-0.55.hdf5', 'weights.09-0.23.hdf5', 'weights.10-0.21.hdf5']],
    ]);
  });

  it('keeps apart the same template in different file kinds, and numbers that mean different things', () => {
    const runs = groupKerasCheckpoints(['ckpt-1.keras', 'ckpt-2.keras', 'ckpt-1.weights.h5', 'ckpt-2.weights.h5', 'epoch_3.h5', 'batch_3.h5']);
    expect(runs.map((run) => [run.label, run.files.map((f) => f.name)])).toEqual([
      ['batch_3.h5', ['batch_3.h5']],
      ['ckpt-{epoch}.keras', ['ckpt-1.keras', 'ckpt-2.keras']],
      ['ckpt-{epoch}.weights.h5', ['ckpt-1.weights.h5', 'ckpt-2.weights.h5']],
      ['epoch_3.h5', ['epoch_3.h5']],
    ]);
  });
});
