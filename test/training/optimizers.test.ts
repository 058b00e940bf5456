// Our optimizers keep every piece of their state (so a resume is exact); what they compute must
// still be what TensorFlow.js's own optimizers compute, step after step.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OptimizerSpecSchema, type OptimizerSpec } from '../../electron/contract.js';
import { TrainingOptimizer } from '../../electron/core/training/engine/optimizers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A small problem with two variables and gradients of ordinary size: a least-squares fit. */
function problem(): { variables: tf.Variable[]; loss: () => tf.Scalar } {
  const x = tf.tensor2d([
    [0.5, -1.2, 0.3],
    [1.1, 0.4, -0.7],
    [-0.2, 0.9, 1.5],
    [0.8, -0.6, 0.1],
  ]);
  const y = tf.tensor2d([[1], [-0.5], [2], [0.3]]);
  const w = tf.variable(tf.tensor2d([[0.1], [-0.2], [0.05]]));
  const b = tf.variable(tf.scalar(0.3));
  return { variables: [w, b], loss: () => tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, w), b)) as tf.Scalar };
}

function theirs(spec: OptimizerSpec): tf.Optimizer {
  switch (spec.name) {
    case 'adam':
      return tf.train.adam(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon);
    case 'sgd':
      return tf.train.sgd(spec.learningRate);
    case 'momentum':
      return tf.train.momentum(spec.learningRate, spec.momentum);
    case 'rmsprop':
      return tf.train.rmsprop(spec.learningRate, spec.rho, 0, spec.epsilon);
  }
}

function run(spec: OptimizerSpec, ours: boolean, steps: number): number[] {
  const { variables, loss } = problem();
  const optimizer = ours ? new TrainingOptimizer(spec, variables, ['w', 'b']) : theirs(spec);
  for (let i = 0; i < steps; i += 1) {
    const { grads } = tf.variableGrads(loss, variables);
    if (optimizer instanceof TrainingOptimizer) optimizer.apply(variables.map((v) => grads[v.name] as tf.Tensor));
    else optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const values = variables.flatMap((v) => [...(v.dataSync() as Float32Array)]);
  if (optimizer instanceof TrainingOptimizer) optimizer.dispose();
  else optimizer.dispose();
  tf.dispose(variables);
  return values;
}

describe('our optimizers against TensorFlow.js', () => {
  it.each([
    OptimizerSpecSchema.parse({ name: 'adam', learningRate: 0.05 }),
    OptimizerSpecSchema.parse({ name: 'sgd', learningRate: 0.1 }),
    OptimizerSpecSchema.parse({ name: 'momentum', learningRate: 0.05, momentum: 0.9 }),
    // tfjs divides by sqrt(ms + ε) where Keras (and we) divide by sqrt(ms) + ε: with gradients
    // of ordinary size the two agree to well within the tolerance.
    OptimizerSpecSchema.parse({ name: 'rmsprop', learningRate: 0.01, rho: 0.9 }),
  ])('$name matches tf.train.$name over 10 steps within 1e-5', (spec) => {
    const ours = run(spec, true, 10);
    const reference = run(spec, false, 10);
    const start = run(spec, true, 0);
    expect(ours).not.toEqual(start);
    ours.forEach((value, i) => {
      const expected = reference[i] as number;
      expect(Math.abs(value - expected) / Math.max(1e-3, Math.abs(expected)), `variable ${i}: ${value} vs ${expected}`).toBeLessThan(1e-5);
    });
  });

  it("keeps Adam's beta powers as running products, saved and restored with the slots", () => {
    const spec = OptimizerSpecSchema.parse({ name: 'adam', learningRate: 0.05 });
    const { variables, loss } = problem();
    const optimizer = new TrainingOptimizer(spec, variables, ['w', 'b']);
    for (let i = 0; i < 3; i += 1) {
      const { grads } = tf.variableGrads(loss, variables);
      optimizer.apply(variables.map((v) => grads[v.name] as tf.Tensor));
      tf.dispose(Object.values(grads));
    }
    const state = new Map(optimizer.stateTensors().map(({ name, tensor }) => [name, { name, shape: tensor.shape, values: tensor.dataSync() as Float32Array }]));
    expect([...state.keys()].sort()).toEqual(['b/m', 'b/v', 'optimizer/beta1_power', 'optimizer/beta2_power', 'w/m', 'w/v']);
    expect(state.get('optimizer/beta1_power')?.values[0]).toBeCloseTo(0.9 ** 4, 6);
    const restored = new TrainingOptimizer(spec, variables, ['w', 'b']);
    restored.restore(state, optimizer.iterations, 'test');
    for (const { name, tensor } of restored.stateTensors()) expect([...(tensor.dataSync() as Float32Array)]).toEqual([...(state.get(name)?.values ?? [])]);
    expect(restored.iterations).toBe(3);
    expect(() => restored.restore(new Map(), 0, 'somewhere')).toThrow('somewhere: optimizer state');
    optimizer.dispose();
    restored.dispose();
    tf.dispose(variables);
  });
});
