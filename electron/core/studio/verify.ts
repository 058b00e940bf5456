// Full verification of checkpoints wherever they are: the open workspace's (remembered in its
// verify cache), another workspace's, or a checkpoint folder on its own.
import path from 'node:path';
import type { VerifyReport, VerifyResult } from '../../contract.js';
import { shown } from '../base/describe-value.js';
import { RefusedError } from '../base/errors.js';
import { type VerifyResult as ReaderResult, verifyCheckpoint } from '../checkpoint/reader.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import type { StoredWorkspace } from '../checkpoint/stored-store.js';
import type { TargetLocator } from './locate.js';
import { verifyForeign } from '../formats/in-place.js';
import { hasForeignPart } from '../checkpoint/foreign-part.js';
import { storedForeignParts, verifyStoredForeign, withStoredForeignDir } from '../formats/stored-foreign.js';

function toResult(id: string, result: ReaderResult): VerifyResult {
  // A tensor's name is read from the file: said only through the one rule for such text.
  const problems = result.problems.map((p) => (p.tensor === undefined ? { ...p } : { ...p, tensor: shown(p.tensor) }));
  return { id, path: result.dir, ok: result.ok, status: result.structure, problems };
}

export async function verifyTargets(store: CheckpointStore | null, locator: TargetLocator, targets: readonly string[]): Promise<VerifyReport> {
  if (targets.length === 0) {
    if (!store) throw new RefusedError('verify', 'name the checkpoints to verify, or open a workspace to verify all of it');
    const outcome = await store.verify(store.catalog.list().map((c) => c.id));
    return { results: outcome.results.map((r, i) => toResult(store.catalog.list()[i]?.id ?? r.dir, r)), warnings: outcome.warnings };
  }
  const results: VerifyResult[] = [];
  const warnings: string[] = [];
  for (const target of targets) {
    const located = await locator.locate(target);
    if (located.kind === 'foreign') {
      results.push(...(await verifyForeign(located.reader, located.path)));
      continue;
    }
    if (located.kind === 'file') throw new RefusedError(located.path, 'not a checkpoint folder; verify takes checkpoint folders (inspect reads a single file)');
    if (located.kind === 'folder') {
      results.push(toResult(located.path, await verifyCheckpoint(located.path, storedForeignParts)));
      continue;
    }
    const outcome = await located.store.verify([located.checkpoint.id]);
    warnings.push(...outcome.warnings);
    const id = located.store === store ? located.checkpoint.id : path.join(located.store.root, located.checkpoint.id);
    for (const result of outcome.results) results.push(toResult(id, result));
  }
  return { results, warnings: [...new Set(warnings)] };
}

/** Verification in a workspace in S3: every tensor read by ranged GETs and checked, as on disk. */
export async function verifyStoredTargets(workspace: StoredWorkspace, targets: readonly string[]): Promise<VerifyReport> {
  const ids = targets.length === 0 ? workspace.catalog.list().map((c) => c.id) : targets.map((target) => workspace.resolve(target).id);
  const outcome = await workspace.verify(ids, (id, result) => withStoredForeignPart(workspace, id, result));
  return { results: outcome.results.map((r, i) => toResult(ids[i] ?? r.dir, r)), warnings: outcome.warnings };
}

/** An imported checkpoint's own files (beside its manifest in the bucket), read where they lie and checked against the CRCs recorded at import. */
async function withStoredForeignPart(workspace: StoredWorkspace, id: string, result: ReaderResult): Promise<ReaderResult> {
  if (result.manifest === undefined || !hasForeignPart(result.manifest)) return result;
  const manifest = result.manifest;
  const problems = await withStoredForeignDir(workspace.storage, `${id}/`, (dir) => verifyStoredForeign(dir, manifest));
  if (problems.length === 0) return result;
  return { ...result, ok: false, structure: 'damaged', problems: [...result.problems, ...problems] };
}
