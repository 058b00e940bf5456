// Which of another program's tensors become which weights of one of our model presets, and which
// optimizer slots carry over. The preset is found from the tensors' shapes (a chain of dense
// kernels from 784 inputs to 10 classes is an mlp; 3×3 convolutions first make a cnn); weights
// are then matched by shape in the source's natural name order (`Variable_2` before
// `Variable_10`), or exactly as a `--map` file says. Everything decided is said, so a user can
// check the mapping and write their own.
import { StudioError } from '../../contract.js';
import type { ModelSpec, OptimizerSpec } from '../../contract.js';
import { quoted } from '../base/describe-value.js';
import { CLASS_COUNT, IMAGE_HEIGHT, IMAGE_WIDTH } from './data/mnist-dataset.js';

/** What the mapping needs to know of a source tensor (a ForeignTensor, or its manifest entry). */
export interface SourceTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly role: 'model' | 'optimizer' | 'step' | 'other';
  readonly slot?: { readonly variable: string; readonly name: string } | undefined;
}

export interface MappingPlan {
  readonly spec: ModelSpec;
  /** Our weight ← the source tensor, in our weight order. */
  readonly weights: readonly { readonly ours: string; readonly theirs: string; readonly shape: readonly number[] }[];
  /** Our optimizer state (`dense_0/kernel/m`, `optimizer/beta1_power`) ← the source tensor. */
  readonly optimizer: readonly { readonly ours: string; readonly theirs: string }[];
  /** Why optimizer state starts from zero, when it does. */
  readonly warnings: readonly string[];
  /** How the mapping was decided. */
  readonly notes: readonly string[];
}

const INPUTS = IMAGE_HEIGHT * IMAGE_WIDTH;
const natural = new Intl.Collator('en', { numeric: true }).compare;
const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Our preset's trainable weights, by name and shape, in order: what `buildModel` makes
 * (test/training/foreign-mapping.test.ts holds the two to each other), computed without
 * TensorFlow.js so the Studio can plan a continuation without loading it.
 */
export function presetWeights(spec: ModelSpec): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  const dense = (name: string, inputs: number, units: number): void => {
    out.push({ name: `${name}/kernel`, shape: [inputs, units] }, { name: `${name}/bias`, shape: [units] });
  };
  if (spec.kind === 'mlp') {
    let inputs = INPUTS;
    for (let i = 0; i < spec.depth; i += 1) {
      dense(`dense_${i}`, inputs, spec.width);
      inputs = spec.width;
    }
    dense('logits', inputs, CLASS_COUNT);
    return out;
  }
  let channels = 1;
  let side = IMAGE_HEIGHT;
  for (let i = 0; i < spec.depth; i += 1) {
    out.push({ name: `conv_${i}/kernel`, shape: [3, 3, channels, spec.filters] }, { name: `conv_${i}/bias`, shape: [spec.filters] });
    channels = spec.filters;
    side -= 2;
  }
  side = Math.floor(side / 2);
  dense(`dense_${spec.depth}`, side * side * channels, spec.width);
  dense('logits', spec.width, CLASS_COUNT);
  return out;
}

function describeSpec(spec: ModelSpec): string {
  if (spec.kind === 'mlp')
    return spec.depth === 0
      ? 'mlp with no hidden layer (softmax regression)'
      : `mlp (${spec.depth} hidden layer${spec.depth === 1 ? '' : 's'} of ${spec.width})`;
  return `cnn (${spec.depth} convolution${spec.depth === 1 ? '' : 's'} of ${spec.filters} filters, dense ${spec.width})`;
}

/** The preset the source's weight shapes describe, or a refusal saying what was found. */
export function inferSpec(weights: readonly SourceTensor[], where: string): ModelSpec {
  const kernels = weights.filter((t) => t.shape.length >= 2);
  const convs = kernels.filter((t) => t.shape.length === 4);
  const dense = kernels.filter((t) => t.shape.length === 2);
  const found = kernels.map((t) => `${t.name} ${shapeText(t.shape)}`).join(', ') || 'no kernels';
  const refuse = (why: string): never => {
    throw new StudioError(
      'refused',
      `${where}: its tensors match no model preset (${why}; found ${found}); give the model with --model/--width/--depth/--filters and the names with --map FILE`,
    );
  };
  if (convs.length > 0) {
    const filters = convs[0]?.shape[3] as number;
    const hidden = dense.find((t) => t.shape[1] !== CLASS_COUNT) ?? dense[0];
    if (!hidden) return refuse('convolutions but no dense layer');
    return { kind: 'cnn', depth: convs.length, filters, width: hidden.shape[1] as number };
  }
  // An mlp: a chain of kernels from the image's pixels to the classes.
  const chain: SourceTensor[] = [];
  let inputs = INPUTS;
  const unused = [...dense];
  while (unused.length > 0) {
    // A kernel to the classes ends the chain: take it only when no hidden layer follows from here.
    const fits = (t: SourceTensor): boolean => t.shape[0] === inputs;
    const hidden = unused.findIndex((t) => fits(t) && t.shape[1] !== CLASS_COUNT);
    const next = hidden >= 0 ? hidden : unused.findIndex(fits);
    if (next < 0) break;
    const [kernel] = unused.splice(next, 1) as [SourceTensor];
    chain.push(kernel);
    inputs = kernel.shape[1] as number;
  }
  if (chain.length === 0) return refuse(`no dense kernel takes the ${INPUTS} pixels of a ${IMAGE_HEIGHT}×${IMAGE_WIDTH} image`);
  if (inputs !== CLASS_COUNT) return refuse(`the dense layers end in ${inputs} outputs, not ${CLASS_COUNT} classes`);
  const widths = chain.slice(0, -1).map((t) => t.shape[1] as number);
  if (widths.some((w) => w !== widths[0])) return refuse(`hidden layers of different widths (${widths.join(', ')}); the mlp preset has one width`);
  return { kind: 'mlp', depth: chain.length - 1, width: widths[0] ?? 128, filters: 32 };
}

/** The slot names other programs give each piece of our optimizers' state. */
const SLOT_NAMES: Readonly<Record<OptimizerSpec['name'], Readonly<Record<string, readonly string[]>>>> = {
  adam: { m: ['Adam', 'm', 'momentum'], v: ['Adam_1', 'v', 'velocity'] },
  momentum: { velocity: ['Momentum', 'momentum', 'velocity'] },
  rmsprop: { ms: ['RMSProp', 'rms', 'ms'] },
  sgd: {},
};

function isFloatWeight(t: SourceTensor): boolean {
  return t.dtype === 'F32';
}

/**
 * The plan for loading `tensors` into a preset. `spec` is the user's (else inferred); `map`,
 * ours → theirs, replaces matching by shape.
 */
export function planMapping(
  tensors: readonly SourceTensor[],
  options: {
    readonly where: string;
    readonly spec?: ModelSpec | undefined;
    readonly map?: Readonly<Record<string, string>> | undefined;
    readonly optimizer: OptimizerSpec['name'];
  },
): MappingPlan {
  const { where } = options;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const candidates = tensors.filter((t) => t.role === 'model' && !t.slot).sort((a, b) => natural(a.name, b.name));
  const notes: string[] = [];
  const spec = options.spec ?? inferSpec(candidates.filter(isFloatWeight), where);
  const expected = presetWeights(spec);
  const weights: { ours: string; theirs: string; shape: number[] }[] = [];
  if (options.map) {
    const unknown = Object.keys(options.map).filter((ours) => !expected.some((e) => e.name === ours));
    if (unknown.length > 0)
      throw new StudioError(
        'usage',
        `${where}: the map names ${unknown.map(quoted).join(', ')}, which ${describeSpec(spec)} does not have; its weights are ${expected.map((e) => e.name).join(', ')}`,
      );
    for (const { name, shape } of expected) {
      const theirs = options.map[name];
      if (theirs === undefined) throw new StudioError('usage', `${where}: the map gives no source tensor for "${name}" ${shapeText(shape)}`);
      const tensor = byName.get(theirs);
      if (!tensor) throw new StudioError('usage', `${where}: the map names ${quoted(theirs)} for "${name}", but the checkpoint has no such tensor`);
      if (!isFloatWeight(tensor) || !sameShape(tensor.shape, shape))
        throw new StudioError(
          'refused',
          `${where}: ${quoted(theirs)} is ${tensor.dtype} ${shapeText(tensor.shape)}, but "${name}" needs F32 ${shapeText(shape)}`,
        );
      weights.push({ ours: name, theirs, shape });
    }
    notes.push('weights mapped as the map file says');
  } else {
    const unused = candidates.filter(isFloatWeight);
    for (const { name, shape } of expected) {
      const index = unused.findIndex((t) => sameShape(t.shape, shape));
      if (index < 0)
        throw new StudioError(
          'refused',
          `${where}: no F32 tensor of shape ${shapeText(shape)} for "${name}" of ${describeSpec(spec)}; give the names with --map FILE`,
        );
      const [tensor] = unused.splice(index, 1) as [SourceTensor];
      if (unused.some((t) => sameShape(t.shape, shape)))
        notes.push(
          `"${name}": several tensors have shape ${shapeText(shape)}; took ${quoted(tensor.name)}, the first in name order (--map FILE chooses otherwise)`,
        );
      weights.push({ ours: name, theirs: tensor.name, shape });
    }
    if (unused.length > 0)
      throw new StudioError(
        'refused',
        `${where}: ${unused.map((t) => `${quoted(t.name)} ${shapeText(t.shape)}`).join(', ')} ${unused.length === 1 ? 'has' : 'have'} no place in ${describeSpec(spec)}; give the model and the names with --map FILE`,
      );
    notes.push(`weights matched by shape, in the checkpoint's name order, to ${describeSpec(spec)}`);
  }
  const { optimizer, warnings } = planOptimizer(tensors, weights, options.optimizer);
  return { spec, weights, optimizer, warnings, notes };
}

function planOptimizer(
  tensors: readonly SourceTensor[],
  weights: readonly { ours: string; theirs: string }[],
  optimizer: OptimizerSpec['name'],
): { optimizer: { ours: string; theirs: string }[]; warnings: string[] } {
  const slotsOf = new Map<string, SourceTensor[]>();
  for (const t of tensors) if (t.slot && t.role === 'optimizer') slotsOf.set(t.slot.variable, [...(slotsOf.get(t.slot.variable) ?? []), t]);
  const kinds = SLOT_NAMES[optimizer];
  const sourceSlots = [...new Set([...slotsOf.values()].flat().map((t) => t.slot?.name ?? ''))];
  if (Object.keys(kinds).length === 0) {
    return {
      optimizer: [],
      warnings: sourceSlots.length > 0 ? [`the source's optimizer slots (${sourceSlots.join(', ')}) are not used: ${optimizer} keeps no state`] : [],
    };
  }
  const mapped: { ours: string; theirs: string }[] = [];
  const missing: string[] = [];
  for (const { ours, theirs } of weights) {
    for (const [kind, names] of Object.entries(kinds)) {
      const slot = slotsOf.get(theirs)?.find((t) => names.includes(t.slot?.name ?? ''));
      if (slot) mapped.push({ ours: `${ours}/${kind}`, theirs: slot.name });
      else missing.push(`${ours}/${kind}`);
    }
  }
  if (missing.length > 0) {
    const had =
      sourceSlots.length > 0
        ? `its slots are ${sourceSlots.join(', ')}`
        : 'it holds no optimizer slots (saved without optimizer state, or by plain gradient descent, which keeps none)';
    return {
      optimizer: [],
      warnings: [
        `${optimizer} state starts from zero: the checkpoint has no ${missing.length === mapped.length + missing.length ? 'state' : `state for ${missing.join(', ')}`} this optimizer can use; ${had}`,
      ],
    };
  }
  const warnings: string[] = [];
  if (optimizer === 'adam') {
    for (const power of ['beta1_power', 'beta2_power']) {
      const tensor = tensors.find((t) => t.name === power || t.name.endsWith(`/${power}`));
      if (tensor && tensor.shape.length === 0) mapped.push({ ours: `optimizer/${power}`, theirs: tensor.name });
      else warnings.push(`optimizer/${power}: not in the checkpoint; computed from its step`);
    }
  }
  return { optimizer: mapped, warnings };
}

/** The mapping as a --map file would give it: ours → theirs. */
export function mapFileOf(plan: MappingPlan): Record<string, string> {
  return Object.fromEntries(plan.weights.map((w) => [w.ours, w.theirs]));
}
