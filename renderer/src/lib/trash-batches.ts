// The trash as a person reads it: batches (one bulk delete, one policy pass), newest first, each
// with when, how many, how much and why.
import type { TrashEntry } from './contract';

export interface TrashBatch {
  readonly batch: string;
  readonly deletedAt: string;
  readonly entries: readonly TrashEntry[];
  readonly bytes: number;
  readonly reasons: readonly string[];
}

export function groupTrash(entries: readonly TrashEntry[]): TrashBatch[] {
  const byBatch = new Map<string, TrashEntry[]>();
  for (const entry of entries) {
    const list = byBatch.get(entry.batch);
    if (list) list.push(entry);
    else byBatch.set(entry.batch, [entry]);
  }
  const batches = [...byBatch].map(([batch, list]) => {
    list.sort((a, b) => a.checkpointId.localeCompare(b.checkpointId));
    const deletedAt = list.reduce((latest, e) => (e.deletedAt > latest ? e.deletedAt : latest), '');
    return { batch, deletedAt, entries: list, bytes: list.reduce((s, e) => s + e.bytes, 0), reasons: [...new Set(list.map((e) => e.reason))] };
  });
  return batches.sort((a, b) => b.deletedAt.localeCompare(a.deletedAt) || b.batch.localeCompare(a.batch));
}
