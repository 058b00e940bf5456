// Which training step a bundle was saved at. The sources: a number at the end of the prefix
// (`model.ckpt-1000`, `model-1000`, and TF2's `ckpt-19`, which counts saves, not steps), a
// `global_step` variable, a Keras optimizer's `_iterations` counter, and in TF1 code that made its
// step counter with a bare tf.Variable, an integer scalar whose value is the prefix's number.
import { shown } from '../../base/describe-value.js';
import type { ForeignDtype, TensorRole } from '../foreign.js';

export interface StepCandidate {
  readonly name: string;
  readonly displayName: string;
  readonly dtype: ForeignDtype;
  readonly shape: readonly number[];
  readonly role: TensorRole;
}

export interface StepDecision {
  readonly step: number | null;
  readonly stepSource: string | null;
  /** The tensor the step was taken from (its role becomes `step`), if any. */
  readonly stepTensor: string | null;
  /** Tensors named like a step that were not used (their role is not `step`). */
  readonly notStep: readonly string[];
  readonly notes: readonly string[];
}

const INTEGER_DTYPES = new Set<ForeignDtype>(['I8', 'I16', 'I32', 'I64', 'U8', 'U16', 'U32', 'U64']);
const NUMBER_DTYPES = new Set<ForeignDtype>([...INTEGER_DTYPES, 'F32', 'F64']);

export function numberInName(prefix: string): number | null {
  const match = /-(\d+)$/.exec(prefix);
  if (match === null) return null;
  const value = Number(match[1]);
  return Number.isSafeInteger(value) ? value : null;
}

/** Scalar tensors whose values `decideStep` may need; open() reads only these few bytes. */
export function stepCandidates(tensors: readonly StepCandidate[], style: 'tf1' | 'tf2', prefix: string): StepCandidate[] {
  const hasNumber = numberInName(prefix) !== null;
  return tensors.filter((t) => {
    if (t.shape.length !== 0 || !NUMBER_DTYPES.has(t.dtype)) return false;
    if (isNamedStep(t, style) || isIterations(t, style)) return true;
    return style === 'tf1' && hasNumber && INTEGER_DTYPES.has(t.dtype) && t.role === 'model';
  });
}

function isNamedStep(t: StepCandidate, style: 'tf1' | 'tf2'): boolean {
  return style === 'tf1' ? t.name === 'global_step' : t.displayName === 'global_step' || t.displayName === 'step';
}

function isIterations(t: StepCandidate, style: 'tf1' | 'tf2'): boolean {
  return style === 'tf2' && /(^|\/)(_iterations|iter)$/.test(t.displayName);
}

export function decideStep(prefix: string, style: 'tf1' | 'tf2', candidates: readonly StepCandidate[], values: ReadonlyMap<string, number>): StepDecision {
  const fromName = numberInName(prefix);
  const notes: string[] = [];
  const valueOf = (t: StepCandidate): number | null => {
    const value = values.get(t.name);
    return value !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : null;
  };
  const named = candidates.filter((t) => isNamedStep(t, style) && valueOf(t) !== null);
  const notStep = candidates.filter((t) => isNamedStep(t, style) || isIterations(t, style)).map((t) => t.name);
  const decided = (step: number, stepSource: string, stepTensor: string | null): StepDecision => ({
    step,
    stepSource,
    stepTensor,
    notStep: notStep.filter((name) => name !== stepTensor),
    notes,
  });

  if (style === 'tf1') {
    const globalStep = named[0];
    if (globalStep !== undefined) {
      const value = valueOf(globalStep) as number;
      if (fromName !== null && fromName !== value) {
        notes.push(`The name ${prefix} says step ${fromName}, but the variable ${shown(globalStep.name)} holds ${value}; the variable's ${value} is used.`);
        return decided(value, `the variable ${shown(globalStep.name)}`, globalStep.name);
      }
      return decided(
        value,
        fromName === null ? `the variable ${shown(globalStep.name)}` : `the variable ${shown(globalStep.name)} and the name ${prefix}`,
        globalStep.name,
      );
    }
    if (fromName === null) return { step: null, stepSource: null, stepTensor: null, notStep, notes };
    const equal = candidates.filter((t) => t.role === 'model' && INTEGER_DTYPES.has(t.dtype) && valueOf(t) === fromName);
    const counter = equal.length === 1 ? equal[0] : undefined;
    if (counter !== undefined)
      return decided(fromName, `the name ${prefix} and the integer variable ${shown(counter.name)}, which holds the same number`, counter.name);
    return decided(fromName, `the name ${prefix}`, null);
  }

  const iterations = candidates.filter((t) => isIterations(t, style) && (valueOf(t) ?? 0) > 0).sort((a, b) => (valueOf(b) ?? 0) - (valueOf(a) ?? 0))[0];
  if (iterations !== undefined) {
    const value = valueOf(iterations) as number;
    if (fromName !== null && fromName !== value) {
      notes.push(
        `In ${prefix}, ${fromName} counts saves (the save_counter), not training steps; the optimizer's counter ${shown(iterations.displayName)} says ${value} steps, which is used.`,
      );
    }
    for (const other of named) {
      if (valueOf(other) !== value)
        notes.push(`The variable ${shown(other.displayName)} holds ${valueOf(other)}, not the optimizer's ${value}; it is not taken as the step.`);
    }
    return decided(value, `the optimizer's step counter ${shown(iterations.displayName)}`, iterations.name);
  }
  const stepVariable = named[0];
  if (stepVariable !== undefined) {
    const value = valueOf(stepVariable) as number;
    if (fromName !== null && fromName !== value)
      notes.push(`In ${prefix}, ${fromName} counts saves, not training steps; the variable ${shown(stepVariable.displayName)} says ${value}, which is used.`);
    return decided(value, `the variable ${shown(stepVariable.displayName)}`, stepVariable.name);
  }
  if (fromName !== null) {
    notes.push(`${prefix}: ${fromName} counts saves (TensorFlow's save_counter); no training step is recorded, so the save number stands in for it.`);
    return decided(fromName, `the save number in the name ${prefix}`, null);
  }
  return { step: null, stepSource: null, stepTensor: null, notStep, notes };
}
