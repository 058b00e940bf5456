// Mapping another program's tensors onto our presets: the preset's weights as computed without
// TensorFlow.js equal what buildModel makes; the preset is found from shapes; weights are matched
// by shape in natural name order, or as a map says; optimizer slots carry over or reset, said.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../electron/contract.js';
import { inferSpec, mapFileOf, planMapping, presetWeights, type SourceTensor } from '../../electron/core/training/foreign-mapping.js';
import { buildModel, concreteShape } from '../../electron/core/training/engine/models.js';

const weight = (name: string, shape: number[], extra: Partial<SourceTensor> = {}): SourceTensor => ({ name, dtype: 'F32', shape, role: 'model', ...extra });

/** The TF1 MNIST softmax fixture's entries (SOURCES.md §1a): the step in `Variable`, w and b unnamed. */
const MNIST_SOFTMAX: SourceTensor[] = [weight('Variable', [], { dtype: 'I32', role: 'step' }), weight('Variable_1', [784, 10]), weight('Variable_2', [10])];

describe('presetWeights', () => {
  it.each<ModelSpec>([
    { kind: 'mlp', depth: 0, width: 128, filters: 32 },
    { kind: 'mlp', depth: 2, width: 16, filters: 32 },
    { kind: 'cnn', depth: 1, width: 32, filters: 4 },
    { kind: 'cnn', depth: 3, width: 8, filters: 2 },
    { kind: 'cnn', depth: 0, width: 8, filters: 2 },
  ])('equals what buildModel makes for %o', (spec) => {
    const model = buildModel(spec);
    try {
      expect(presetWeights(spec)).toEqual(model.trainableWeights.map((w) => ({ name: w.originalName, shape: concreteShape(w.shape) })));
    } finally {
      model.dispose();
    }
    tf.disposeVariables();
  });
});

describe('inferSpec', () => {
  it('reads the TF1 MNIST softmax model as an mlp with no hidden layer', () => {
    expect(
      inferSpec(
        MNIST_SOFTMAX.filter((t) => t.role === 'model'),
        'w',
      ),
    ).toMatchObject({ kind: 'mlp', depth: 0 });
  });

  it('follows a chain of dense kernels in any name order', () => {
    const tensors = [weight('out/kernel', [64, 10]), weight('hidden_2/kernel', [64, 64]), weight('hidden_1/kernel', [784, 64])];
    expect(inferSpec(tensors, 'w')).toEqual({ kind: 'mlp', depth: 2, width: 64, filters: 32 });
  });

  it('refuses shapes no preset has, saying what it found', () => {
    expect(() => inferSpec([weight('a', [100, 10])], 'ckpt')).toThrow(
      /ckpt: its tensors match no model preset \(no dense kernel takes the 784 pixels.*found a \[100, 10\]\)/,
    );
    expect(() => inferSpec([weight('a', [784, 32]), weight('b', [32, 16]), weight('c', [16, 10])], 'ckpt')).toThrow(
      /hidden layers of different widths \(32, 16\)/,
    );
  });
});

describe('planMapping', () => {
  it('maps the MNIST softmax weights by shape and says that plain gradient descent left no Adam state', () => {
    const plan = planMapping(MNIST_SOFTMAX, { where: 'mnist', optimizer: 'adam' });
    expect(mapFileOf(plan)).toEqual({ 'logits/kernel': 'Variable_1', 'logits/bias': 'Variable_2' });
    expect(plan.optimizer).toEqual([]);
    expect(plan.warnings.join(' ')).toMatch(/adam state starts from zero.*holds no optimizer slots/);
  });

  it('takes tensors of one shape in natural name order (Variable_2 before Variable_10), and says so', () => {
    const tensors = [
      weight('Variable_10', [16, 16]),
      weight('Variable_2', [16, 16]),
      weight('Variable_1', [784, 16]),
      weight('b1', [16]),
      weight('b2', [16]),
      weight('b3', [16]),
      weight('Variable_11', [16, 10]),
      weight('b4', [10]),
    ];
    const plan = planMapping(tensors, { where: 'x', optimizer: 'sgd' });
    expect(mapFileOf(plan)).toMatchObject({ 'dense_0/kernel': 'Variable_1', 'dense_1/kernel': 'Variable_2', 'logits/kernel': 'Variable_11' });
    expect(plan.notes.join(' ')).toMatch(/several tensors have shape \[16, 16\]; took "Variable_2"/);
  });

  it('carries TF1 Adam slots and beta powers over to our m, v and powers', () => {
    const tensors = [
      weight('w', [784, 10]),
      weight('b', [10]),
      weight('w/Adam', [784, 10], { role: 'optimizer', slot: { variable: 'w', name: 'Adam' } }),
      weight('w/Adam_1', [784, 10], { role: 'optimizer', slot: { variable: 'w', name: 'Adam_1' } }),
      weight('b/Adam', [10], { role: 'optimizer', slot: { variable: 'b', name: 'Adam' } }),
      weight('b/Adam_1', [10], { role: 'optimizer', slot: { variable: 'b', name: 'Adam_1' } }),
      weight('beta1_power', [], { role: 'optimizer' }),
      weight('beta2_power', [], { role: 'optimizer' }),
    ];
    const plan = planMapping(tensors, { where: 'x', optimizer: 'adam' });
    expect(plan.optimizer).toEqual([
      { ours: 'logits/kernel/m', theirs: 'w/Adam' },
      { ours: 'logits/kernel/v', theirs: 'w/Adam_1' },
      { ours: 'logits/bias/m', theirs: 'b/Adam' },
      { ours: 'logits/bias/v', theirs: 'b/Adam_1' },
      { ours: 'optimizer/beta1_power', theirs: 'beta1_power' },
      { ours: 'optimizer/beta2_power', theirs: 'beta2_power' },
    ]);
    expect(plan.warnings).toEqual([]);
    // The same checkpoint continued with momentum has nothing it can use.
    expect(planMapping(tensors, { where: 'x', optimizer: 'momentum' }).warnings.join(' ')).toMatch(
      /momentum state starts from zero.*its slots are Adam, Adam_1/,
    );
  });

  it('follows a map exactly, and refuses one that names a missing tensor, a wrong shape or a weight we do not have', () => {
    const tensors = [weight('first', [784, 10]), weight('second', [784, 10]), weight('bias', [10])];
    expect(
      mapFileOf(
        planMapping(tensors, {
          where: 'x',
          optimizer: 'sgd',
          map: { 'logits/kernel': 'second', 'logits/bias': 'bias' },
          spec: { kind: 'mlp', depth: 0, width: 1, filters: 1 },
        }),
      ),
    ).toEqual({ 'logits/kernel': 'second', 'logits/bias': 'bias' });
    const spec: ModelSpec = { kind: 'mlp', depth: 0, width: 1, filters: 1 };
    expect(() => planMapping(tensors, { where: 'x', optimizer: 'sgd', spec, map: { 'logits/kernel': 'nope', 'logits/bias': 'bias' } })).toThrow(
      /names "nope" for "logits\/kernel", but the checkpoint has no such tensor/,
    );
    expect(() => planMapping(tensors, { where: 'x', optimizer: 'sgd', spec, map: { 'logits/kernel': 'bias', 'logits/bias': 'bias' } })).toThrow(
      /"bias" is F32 \[10\], but "logits\/kernel" needs F32 \[784, 10\]/,
    );
    expect(() => planMapping(tensors, { where: 'x', optimizer: 'sgd', spec, map: { 'dense_7/kernel': 'first' } })).toThrow(
      /names "dense_7\/kernel", which mlp with no hidden layer/,
    );
  });

  it('refuses a checkpoint with a tensor no weight of the preset takes', () => {
    expect(() => planMapping([weight('w', [784, 10]), weight('b', [10]), weight('extra', [10])], { where: 'ckpt', optimizer: 'sgd' })).toThrow(
      /ckpt: "extra" \[10\] has no place in mlp with no hidden layer/,
    );
  });
});
