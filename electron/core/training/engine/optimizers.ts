// Our own optimizers, so every piece of their state is ours to save and restore bit for bit.
// (tfjs's Adam recomputes beta^t with pow() on restore, while training accumulates it by
// multiplication: the two differ in the last bits, and a resumed run would drift.)
import { StudioError } from '../../../contract.js';
import * as tf from '@tensorflow/tfjs';
import type { OptimizerSpec } from '../../../contract.js';

export { DEFAULT_LEARNING_RATE, OptimizerSpecSchema, type OptimizerSpec } from '../../../contract.js';

/** One piece of optimizer state, as stored in optimizer.safetensors. */
export interface SlotValue {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export class TrainingOptimizer {
  iterations = 0;
  /** slot kind → one variable per trained weight, e.g. 'm' → [dense_0/kernel/m, …]. */
  private readonly slots = new Map<string, tf.Variable[]>();
  /** Scalar state such as Adam's running beta powers. */
  private readonly scalars = new Map<string, tf.Variable>();

  constructor(
    readonly spec: OptimizerSpec,
    private readonly variables: readonly tf.Variable[],
    private readonly names: readonly string[],
  ) {
    const kinds = { adam: ['m', 'v'], sgd: [], momentum: ['velocity'], rmsprop: ['ms'] }[spec.name];
    for (const kind of kinds)
      this.slots.set(
        kind,
        variables.map((v) => tf.variable(tf.zerosLike(v), false)),
      );
    if (spec.name === 'adam') {
      this.scalars.set('beta1_power', tf.variable(tf.scalar(spec.beta1), false));
      this.scalars.set('beta2_power', tf.variable(tf.scalar(spec.beta2), false));
    }
  }

  /** One update of every variable from its gradient (same order as the constructor's). */
  apply(gradients: readonly tf.Tensor[]): void {
    const { spec } = this;
    tf.tidy(() => {
      const lr = tf.scalar(spec.learningRate);
      if (spec.name === 'adam') {
        const p1 = this.scalar('beta1_power');
        const p2 = this.scalar('beta2_power');
        const oneMinusP1 = tf.sub(1, p1);
        const oneMinusP2 = tf.sub(1, p2);
        this.variables.forEach((variable, i) => {
          const g = gradients[i] as tf.Tensor;
          const m = this.slot('m', i);
          const v = this.slot('v', i);
          const newM = tf.add(tf.mul(m, spec.beta1), tf.mul(g, 1 - spec.beta1));
          const newV = tf.add(tf.mul(v, spec.beta2), tf.mul(tf.square(g), 1 - spec.beta2));
          m.assign(newM);
          v.assign(newV);
          const mHat = tf.div(newM, oneMinusP1);
          const vHat = tf.div(newV, oneMinusP2);
          variable.assign(tf.sub(variable, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), spec.epsilon)), lr)));
        });
        p1.assign(tf.mul(p1, spec.beta1));
        p2.assign(tf.mul(p2, spec.beta2));
      } else if (spec.name === 'sgd') {
        this.variables.forEach((variable, i) => variable.assign(tf.sub(variable, tf.mul(gradients[i] as tf.Tensor, lr))));
      } else if (spec.name === 'momentum') {
        this.variables.forEach((variable, i) => {
          const velocity = this.slot('velocity', i);
          const next = tf.add(tf.mul(velocity, spec.momentum), gradients[i] as tf.Tensor);
          velocity.assign(next);
          variable.assign(tf.sub(variable, tf.mul(next, lr)));
        });
      } else {
        this.variables.forEach((variable, i) => {
          const g = gradients[i] as tf.Tensor;
          const ms = this.slot('ms', i);
          const next = tf.add(tf.mul(ms, spec.rho), tf.mul(tf.square(g), 1 - spec.rho));
          ms.assign(next);
          variable.assign(tf.sub(variable, tf.div(tf.mul(g, lr), tf.add(tf.sqrt(next), spec.epsilon))));
        });
      }
    });
    this.iterations += 1;
  }

  private slot(kind: string, index: number): tf.Variable {
    const variable = this.slots.get(kind)?.[index];
    if (!variable) throw new Error(`optimizer ${this.spec.name} has no slot ${kind}[${index}]`);
    return variable;
  }

  private scalar(name: string): tf.Variable {
    const variable = this.scalars.get(name);
    if (!variable) throw new Error(`optimizer ${this.spec.name} has no state ${name}`);
    return variable;
  }

  /** Every state tensor by its stored name: `<weight>/<slot>` and `optimizer/<scalar>`. */
  stateTensors(): { name: string; tensor: tf.Tensor }[] {
    const out: { name: string; tensor: tf.Tensor }[] = [];
    for (const [kind, variables] of this.slots) variables.forEach((v, i) => out.push({ name: `${this.names[i]}/${kind}`, tensor: v }));
    for (const [name, v] of this.scalars) out.push({ name: `optimizer/${name}`, tensor: v });
    return out;
  }

  /** Restores state saved by stateTensors(); every expected slot must be present with its shape. */
  restore(values: ReadonlyMap<string, SlotValue>, iterations: number, where: string): void {
    for (const { name, tensor } of this.stateTensors()) {
      const saved = values.get(name);
      if (!saved)
        throw new StudioError('refused', `${where}: optimizer state "${name}" is missing (was it saved by another optimizer than ${this.spec.name}?)`);
      if (saved.shape.join(',') !== tensor.shape.join(',')) {
        throw new StudioError(
          'refused',
          `${where}: optimizer state "${name}" has shape [${saved.shape.join(', ')}], the model needs [${tensor.shape.join(', ')}]`,
        );
      }
      tf.tidy(() => (tensor as tf.Variable).assign(tf.tensor(saved.values, tensor.shape, 'float32')));
    }
    this.iterations = iterations;
  }

  dispose(): void {
    for (const variables of this.slots.values()) tf.dispose(variables);
    tf.dispose([...this.scalars.values()]);
  }
}
