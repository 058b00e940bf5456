// What each bundle key is: a model weight, an optimizer slot of some variable, a step counter, or
// other state, and a shorter name for display. TF1 Saver keys are variable op names with slot
// suffixes; TF2 keys are object paths, explained by the checkpoint's own object graph.
import { shown } from '../../base/describe-value.js';
import type { TensorRole } from '../foreign.js';
import { OBJECT_GRAPH_KEY, type TrackableNode } from './object-graph.js';

export interface NamedTensor {
  readonly displayName: string;
  readonly role: TensorRole;
  readonly slot?: { readonly variable: string; readonly name: string };
}

export interface TensorShapeInfo {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface Naming {
  readonly style: 'tf1' | 'tf2';
  readonly names: ReadonlyMap<string, NamedTensor>;
  readonly notes: readonly string[];
}

const VALUE_SUFFIX = '/.ATTRIBUTES/VARIABLE_VALUE';
/** Slot variables tf.compat.v1 optimizers and ExponentialMovingAverage create beside a variable `x`: `x/Adam`, … */
const TF1_SLOTS = new Set([
  'Adam',
  'Adam_1',
  'Momentum',
  'RMSProp',
  'RMSProp_1',
  'Adagrad',
  'Adadelta',
  'Adadelta_1',
  'Ftrl',
  'Ftrl_1',
  'ExponentialMovingAverage',
]);
const TF1_OPTIMIZER_SCALARS = new Set(['beta1_power', 'beta2_power']);
const OLD_STYLE_SLOT = /^(.*)\/\.OPTIMIZER_SLOT\/.*\/([^/]+)\/\.ATTRIBUTES\/VARIABLE_VALUE$/;

export function nameTensors(tensors: readonly TensorShapeInfo[], graph: readonly TrackableNode[] | null): Naming {
  return graph === null ? nameTf1(tensors) : nameTf2(tensors, graph);
}

function nameTf1(tensors: readonly TensorShapeInfo[]): Naming {
  const keys = new Set(tensors.map((t) => t.name));
  const names = new Map<string, NamedTensor>();
  const notes: string[] = [];
  for (const { name } of tensors) {
    const cut = name.lastIndexOf('/');
    const last = name.slice(cut + 1);
    const owner = cut > 0 ? name.slice(0, cut) : null;
    if (name === 'global_step') names.set(name, { displayName: name, role: 'step' });
    else if (TF1_OPTIMIZER_SCALARS.has(last)) names.set(name, { displayName: name, role: 'optimizer' });
    else if (owner !== null && TF1_SLOTS.has(last)) {
      const role: TensorRole = last === 'ExponentialMovingAverage' ? 'other' : 'optimizer';
      if (keys.has(owner)) names.set(name, { displayName: name, role, slot: { variable: owner, name: last } });
      else {
        names.set(name, { displayName: name, role });
        notes.push(`${shown(name)} is named like the ${last} slot of ${shown(owner)}, which the checkpoint does not hold.`);
      }
    } else names.set(name, { displayName: name, role: 'model' });
  }
  return { style: 'tf1', names, notes };
}

function displayOf(key: string): string {
  return key.endsWith(VALUE_SUFFIX) ? key.slice(0, -VALUE_SUFFIX.length) : key;
}

/**
 * A TF2 key's path as people named it: each local name is stored escaped, "." as ".." and "/"
 * as ".S" (TensorFlow's `_escape_local_name`, python/training/tracking/graph_view.py), so that "/" only ever
 * separates names. For display only: roles are judged on the escaped path.
 */
export function readablePath(escaped: string): string {
  return escaped
    .split('/')
    .map((part) => part.replace(/\.(S|\.)/g, (match) => (match === '.S' ? '/' : '.')))
    .join('/');
}

function valueKey(node: TrackableNode | undefined): string | null {
  return node?.attributes.find((a) => a.name === 'VARIABLE_VALUE')?.checkpointKey ?? null;
}

function nameTf2(tensors: readonly TensorShapeInfo[], graph: readonly TrackableNode[]): Naming {
  const notes: string[] = [];
  const slots = new Map<string, { variable: string; name: string }>();
  const shapes = new Map(tensors.map((t) => [t.name, t.shape]));
  // Slots the optimizer declares in the graph (Keras OptimizerV2 and tf.compat.v1 optimizers under TF2).
  for (const node of graph) {
    for (const ref of node.slotVariables) {
      const slotKey = valueKey(graph[ref.slotVariableNodeId]);
      const variableKey = valueKey(graph[ref.originalVariableNodeId]);
      if (slotKey !== null && variableKey !== null) slots.set(slotKey, { variable: variableKey, name: ref.slotName });
    }
  }
  for (const { name } of tensors) {
    const match = OLD_STYLE_SLOT.exec(name);
    if (match !== null && !slots.has(name)) slots.set(name, { variable: `${match[1]}${VALUE_SUFFIX}`, name: match[2] ?? '' });
  }
  const optimizerKeys = new Set<string>();
  for (const mapping of mapKerasOptimizerVariables(graph, shapes, notes)) {
    slots.set(mapping.key, mapping.slot);
    optimizerKeys.add(mapping.key);
  }
  const names = new Map<string, NamedTensor>();
  for (const { name } of tensors) {
    const escaped = displayOf(name);
    const displayName = readablePath(escaped);
    const slot = slots.get(name);
    const segments = escaped.split('/');
    let role: TensorRole = 'model';
    if (name === OBJECT_GRAPH_KEY || segments[0] === 'save_counter') role = 'other';
    else if (slot !== undefined || optimizerKeys.has(name) || segments.includes('optimizer') || segments.includes('.OPTIMIZER_SLOT')) role = 'optimizer';
    else if (segments.length === 1 && (segments[0] === 'global_step' || segments[0] === 'step')) role = 'step';
    if (slot !== undefined && !shapes.has(slot.variable))
      notes.push(
        `${shown(displayName)} is a ${shown(slot.name)} slot of ${shown(readablePath(displayOf(slot.variable)))}, which the checkpoint does not hold.`,
      );
    names.set(name, slot === undefined ? { displayName, role } : { displayName, role, slot });
  }
  return { style: 'tf2', names, notes };
}

/**
 * Keras optimizers since TF 2.11 keep their state in one list, `_variables`, saved as
 * `…/optimizer/_variables/N`, with no slot references in the graph. Their order is the build
 * order (keras optimizer.py: `_variables` starts with `iterations`, then `build()` adds, for Adam,
 * `m` then `v` of each trainable variable in turn). So slot 1+2i is `m` and 2+2i is `v` of the
 * i-th variable of the model that owns the optimizer. That is taken only when the counts and every
 * shape agree; otherwise the slots stay unmapped and a note says so.
 */
function mapKerasOptimizerVariables(
  graph: readonly TrackableNode[],
  shapes: ReadonlyMap<string, readonly number[]>,
  notes: string[],
): { key: string; slot: { variable: string; name: string } }[] {
  const mapped: { key: string; slot: { variable: string; name: string } }[] = [];
  graph.forEach((owner, ownerId) => {
    for (const child of owner.children) {
      const optimizer = graph[child.nodeId];
      const list = optimizer?.children.find((c) => c.localName === '_variables');
      if (optimizer === undefined || list === undefined) continue;
      const slotKeys = new Map<number, string>();
      for (const item of graph[list.nodeId]?.children ?? []) {
        const key = valueKey(graph[item.nodeId]);
        // Item 0 is the optimizer's own `iterations` (saved once, under `_iterations`).
        if (/^[1-9]\d*$/.test(item.localName) && key !== null && shapes.has(key)) slotKeys.set(Number(item.localName), key);
      }
      const numbered = [...slotKeys.keys()].sort((a, b) => a - b);
      if (numbered.length === 0) continue;
      const variables = modelVariables(graph, ownerId, child.nodeId).filter((key) => shapes.has(key));
      const expected = Array.from({ length: variables.length * 2 }, (_, i) => i + 1);
      const shapesAgree =
        numbered.length === expected.length &&
        numbered.every((n, i) => n === expected[i]) &&
        variables.every((variable, i) => [1 + 2 * i, 2 + 2 * i].every((n) => sameShape(shapes.get(slotKeys.get(n) ?? ''), shapes.get(variable))));
      const where = displayOf(slotKeys.get(numbered[0] ?? 1) ?? '').replace(/\/\d+$/, '');
      if (!shapesAgree) {
        notes.push(
          `${shown(where)}/1…${numbered[numbered.length - 1]} are optimizer state the checkpoint does not assign to variables; they do not pair up as m and v of the ${variables.length} model variables, so they are left unmapped.`,
        );
        continue;
      }
      variables.forEach((variable, i) => {
        mapped.push({ key: slotKeys.get(1 + 2 * i) ?? '', slot: { variable, name: 'm' } });
        mapped.push({ key: slotKeys.get(2 + 2 * i) ?? '', slot: { variable, name: 'v' } });
      });
      notes.push(
        `${shown(where)}/N (a Keras optimizer's variable list) mapped as Adam-style slots in build order: 1+2i is m and 2+2i is v of the i-th of the ${variables.length} model variables; every shape agrees.`,
      );
    }
  });
  return mapped;
}

/** The variables under `ownerId`, depth first in the graph's child order, skipping the optimizer's subtree. */
function modelVariables(graph: readonly TrackableNode[], ownerId: number, optimizerId: number): string[] {
  const keys: string[] = [];
  const seen = new Set<number>([ownerId, optimizerId]);
  // An explicit stack: a hostile graph can be a chain deeper than the call stack.
  const stack = [...(graph[ownerId]?.children ?? [])].reverse().map((c) => c.nodeId);
  while (stack.length > 0) {
    const id = stack.pop() as number;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = graph[id];
    const key = valueKey(node);
    if (key !== null) keys.push(key);
    for (let i = (node?.children.length ?? 0) - 1; i >= 0; i--) stack.push(node?.children[i]?.nodeId ?? id);
  }
  return keys;
}

function sameShape(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && a.every((d, i) => d === b[i]);
}
