// Which tensor of A goes with which of B: the same name first; then, for tensors left over on a
// side that holds another program's names, the names training's weight mapping gives them in one
// of our presets (so our checkpoint and a TensorFlow export of it pair `dense_0/kernel/m` with
// `dense_0/kernel/Adam`). Whatever pairs neither way is listed as only in A or only in B.
import { StudioError } from '../../contract.js';
import type { OptimizerSpec } from '../../contract.js';
import { planMapping } from '../training/foreign-mapping.js';
import type { Side, SideTensor } from './compare-side.js';

export interface TensorPair {
  readonly a: SideTensor;
  readonly b: SideTensor;
}

export interface Pairing {
  readonly pairs: readonly TensorPair[];
  readonly onlyInA: readonly SideTensor[];
  readonly onlyInB: readonly SideTensor[];
  readonly notes: readonly string[];
}

/** Optimizers whose slots the mapping knows, tried in turn: the first that carries slots over names them. */
const SLOT_OPTIMIZERS: readonly OptimizerSpec['name'][] = ['adam', 'momentum', 'rmsprop'];

/** Their name → our preset's name, for every tensor the mapping places; empty when no preset takes them. */
function presetNames(side: Side): Map<string, string> {
  const tensors = side.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, role: t.role, slot: t.slot }));
  const where = side.path;
  try {
    const plans = SLOT_OPTIMIZERS.map((optimizer) => planMapping(tensors, { where, optimizer }));
    const plan = plans.find((p) => p.optimizer.length > 0) ?? (plans[0] as (typeof plans)[number]);
    return new Map([...plan.weights, ...plan.optimizer].map((w) => [w.theirs, w.ours]));
  } catch (error) {
    if (error instanceof StudioError) return new Map();
    throw error;
  }
}

function pairByKey(a: readonly SideTensor[], b: readonly SideTensor[], keyA: (t: SideTensor) => string, keyB: (t: SideTensor) => string) {
  const byKey = new Map<string, SideTensor>();
  for (const t of b) if (!byKey.has(keyB(t))) byKey.set(keyB(t), t);
  const pairs: TensorPair[] = [];
  const restA: SideTensor[] = [];
  for (const t of a) {
    const match = byKey.get(keyA(t));
    if (match) {
      pairs.push({ a: t, b: match });
      byKey.delete(keyA(t));
    } else restA.push(t);
  }
  const taken = new Set(pairs.map((p) => p.b));
  return { pairs, restA, restB: b.filter((t) => !taken.has(t)) };
}

export function pairTensors(a: Side, b: Side): Pairing {
  const byName = pairByKey(
    a.tensors,
    b.tensors,
    (t) => t.name,
    (t) => t.name,
  );
  if (byName.restA.length === 0 || byName.restB.length === 0 || (!a.foreignNames && !b.foreignNames)) {
    return { pairs: byName.pairs, onlyInA: byName.restA, onlyInB: byName.restB, notes: [] };
  }
  const mapA = a.foreignNames ? presetNames(a) : new Map<string, string>();
  const mapB = b.foreignNames ? presetNames(b) : new Map<string, string>();
  const mapped = pairByKey(
    byName.restA,
    byName.restB,
    (t) => mapA.get(t.name) ?? t.name,
    (t) => mapB.get(t.name) ?? t.name,
  );
  const notes = mapped.pairs.length > 0 ? [`${mapped.pairs.length} tensors paired through the weight mapping to a model preset (their names differ)`] : [];
  // A's order: the order the tensors are read in.
  const order = new Map(a.tensors.map((t, i) => [t, i]));
  const pairs = [...byName.pairs, ...mapped.pairs].sort((x, y) => (order.get(x.a) ?? 0) - (order.get(y.a) ?? 0));
  return { pairs, onlyInA: mapped.restA, onlyInB: mapped.restB, notes };
}
