// What keeps a checkpoint from being deleted, defined once: the catalog shows it on every
// checkpoint (CheckpointInfo.protectedBy) and the delete guard (safe-delete.ts) refuses by it, so
// the page never has to work out the store's rules for itself.
import type { CheckpointProtection } from '../../contract.js';
import { showName } from './names.js';

export interface ProtectionFacts {
  readonly run: string;
  readonly pinned: boolean;
  /** The live process writing the checkpoint's run, if any. */
  readonly writer: { readonly pid: number; readonly host: string } | null;
  /** Other runs that continued from it (see lineage.ts). */
  readonly children: readonly string[];
}

export function protectionsOf(facts: ProtectionFacts): CheckpointProtection[] {
  const protections: CheckpointProtection[] = [];
  if (facts.pinned) protections.push({ kind: 'pinned', reason: 'pinned' });
  if (facts.writer)
    protections.push({ kind: 'writer', reason: `run "${showName(facts.run)}" is being written by process ${facts.writer.pid} on ${facts.writer.host}` });
  if (facts.children.length > 0) {
    const runs = facts.children.map((run) => `"${showName(run)}"`).join(', ');
    protections.push({ kind: 'parent', reason: `parent of run${facts.children.length === 1 ? '' : 's'} ${runs}` });
  }
  return protections;
}

/** What the delete guard says when it refuses: the reason, and what would lift it. */
export function refusalFor(protection: CheckpointProtection): string {
  switch (protection.kind) {
    case 'pinned':
      return `${protection.reason}; unpin it first`;
    case 'writer':
      return `${protection.reason}; stop it first`;
    case 'parent':
      return `${protection.reason}, which continued from it; deleting it would cut that lineage (delete those runs' checkpoints first)`;
  }
}

export function sameProtections(a: readonly CheckpointProtection[], b: readonly CheckpointProtection[]): boolean {
  return a.length === b.length && a.every((p, i) => p.kind === b[i]?.kind && p.reason === b[i]?.reason);
}
