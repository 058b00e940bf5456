// What "Delete selected" will do, said before it is done: how many and how much, which marked
// checkpoints (latest, best) are among them, and which are protected and left out.
import type { CheckpointInfo } from './contract';

export interface DeletePlan {
  readonly targets: readonly CheckpointInfo[];
  readonly bytes: number;
  /** Left out, with why. */
  readonly kept: readonly { readonly checkpoint: CheckpointInfo; readonly reasons: readonly string[] }[];
  /** Marks among the targets: `latest`, `best val_loss`… with the checkpoint they are on. */
  readonly marked: readonly { readonly id: string; readonly marks: readonly string[] }[];
}

/** The protected ones are those the core says are (CheckpointInfo.protectedBy): the store would refuse them. */
export function planDelete(
  selected: Iterable<string>,
  byId: ReadonlyMap<string, CheckpointInfo>,
  marks: Readonly<Record<string, readonly string[]>>,
): DeletePlan {
  const targets: CheckpointInfo[] = [];
  const kept: { checkpoint: CheckpointInfo; reasons: readonly string[] }[] = [];
  const marked: { id: string; marks: readonly string[] }[] = [];
  for (const id of selected) {
    const checkpoint = byId.get(id);
    if (!checkpoint) continue;
    if (checkpoint.protectedBy.length > 0) {
      kept.push({ checkpoint, reasons: checkpoint.protectedBy.map((p) => p.reason) });
      continue;
    }
    targets.push(checkpoint);
    const on = marks[id];
    if (on && on.length > 0) marked.push({ id, marks: on });
  }
  targets.sort((a, b) => a.run.localeCompare(b.run) || a.step - b.step);
  return { targets, bytes: targets.reduce((sum, c) => sum + c.bytes, 0), kept, marked };
}
