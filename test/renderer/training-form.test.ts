// The "New training" form: what it sends is a request the contract accepts, empty optional
// fields are left to the Studio's defaults, and each bad field says what is wrong with it.
import { describe, expect, it } from 'vitest';
import { StartTrainingSchema, TRAINING_DEFAULTS } from '../../renderer/src/lib/contract';
import { buildStartRequest, defaultFields } from '../../renderer/src/lib/training-form';

describe('the new-training form', () => {
  it('makes a request the contract accepts from its defaults', () => {
    const result = buildStartRequest(defaultFields());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const parsed = StartTrainingSchema.parse(result.request);
    expect(parsed.config).toMatchObject({
      model: { kind: 'mlp', width: 128 },
      optimizer: { name: 'adam', learningRate: 0.001 },
      batchSize: 64,
      epochs: 3,
      seed: 42,
      dataDir: null,
    });
    expect(parsed.config.validationCount).toBeUndefined();
    // How often to log is the contract's one default, said in the form.
    expect(result.request.logEvery).toBe(TRAINING_DEFAULTS.logEvery);
    expect(parsed.checkpoints).toEqual({ everyEpochs: 1, best: { metric: 'val_loss', mode: 'min' }, onStop: true });
    expect(parsed.retention).toEqual({});
    expect(parsed.run).toBeUndefined();
  });

  it('carries every field a user fills in', () => {
    const result = buildStartRequest({
      ...defaultFields(),
      run: ' small ',
      model: 'cnn',
      width: '8',
      optimizer: 'sgd',
      learningRate: '0.1',
      validation: '64',
      trainLimit: '320',
      dataDir: '/data/fashion',
      backend: 'cpu',
      maxSteps: '20',
      logEvery: '4',
      saveEverySteps: '5',
      saveEveryEpochs: '',
      saveEverySeconds: '90.5',
      saveBest: 'val_accuracy',
      keepLast: '3',
      keepBest: '2',
    });
    expect(result.ok && StartTrainingSchema.parse(result.request)).toMatchObject({
      run: 'small',
      config: {
        model: { kind: 'cnn', width: 8 },
        optimizer: { name: 'sgd', learningRate: 0.1 },
        validationCount: 64,
        trainLimit: 320,
        dataDir: '/data/fashion',
      },
      backend: 'cpu',
      maxSteps: 20,
      logEvery: 4,
      checkpoints: { everySteps: 5, everySeconds: 90.5, best: { metric: 'val_accuracy', mode: 'max' }, onStop: true },
      retention: { keepLast: 3, keepBest: { k: 2, metric: 'val_accuracy', mode: 'max' } },
    });
  });

  it('names each field that is wrong', () => {
    const result = buildStartRequest({
      ...defaultFields(),
      width: '0',
      epochs: '',
      learningRate: '-1',
      batchSize: '1.5',
      validation: '0',
      keepBest: '2',
      saveEverySeconds: '0',
      logEvery: '0',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual({
      width: 'A whole number, 1 or more.',
      epochs: 'Required.',
      batchSize: 'A whole number, 1 or more.',
      learningRate: 'A number above 0.',
      saveBest: 'Saving on a new best needs validation examples.',
      saveEverySeconds: 'A number of seconds above 0.',
      logEvery: 'A whole number, 1 or more.',
    });
    const noMetric = buildStartRequest({ ...defaultFields(), saveBest: '', keepBest: '2' });
    expect(!noMetric.ok && noMetric.errors.keepBest).toContain('needs a metric');
  });
});
