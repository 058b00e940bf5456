// Which runs continued from which checkpoints: what makes a checkpoint a parent that a delete
// must not take (protection.ts).
import type { CheckpointRef } from '../../contract.js';

const NONE: readonly string[] = [];

/** The key a checkpoint's step is known by within its run (the catalog's index of steps uses it too). */
export function stepKey(run: string, step: number): string {
  return `${run}\0${step}`;
}

/**
 * Which runs continued from which checkpoints, as counted references (a run's run.json and each
 * of its checkpoints' manifests name the parent), so references can come and go in any order. A
 * run counts only while it holds checkpoints or is being written: an empty run (a start that
 * was abandoned, a run whose checkpoints were all deleted) has no lineage left to cut.
 */
export class Lineage {
  private readonly refs = new Map<string, Map<string, number>>();

  /** Adds or removes one reference from `child` to `parent`; returns the parent's key when its set of children changed. */
  change(parent: CheckpointRef | null, child: string, delta: 1 | -1): string | null {
    if (!parent || parent.run === child) return null;
    const key = stepKey(parent.run, parent.step);
    const children = this.refs.get(key) ?? new Map<string, number>();
    const count = Math.max(0, (children.get(child) ?? 0) + delta);
    if (count > 0) children.set(child, count);
    else children.delete(child);
    if (children.size > 0) this.refs.set(key, children);
    else this.refs.delete(key);
    return count === 0 || (count === 1 && delta === 1) ? key : null;
  }

  children(run: string, step: number): readonly string[] {
    // Asked for every checkpoint of a listing; almost none has children.
    if (this.refs.size === 0) return NONE;
    const children = this.refs.get(stepKey(run, step));
    return children ? [...children.keys()].sort() : NONE;
  }
}
