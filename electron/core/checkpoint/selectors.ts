// What a user types to name a checkpoint — `latest`, `best` (with a metric), an id
// (`run/ckpt-000000100`, or `run/ckpt-100` for the folder holding step 100) — resolved against a
// catalog's table the same way whether the workspace is a folder or an S3 prefix. Never picks one
// of two folders that hold the same step.
import type { CheckpointInfo, MetricMode } from '../../contract.js';
import { NotFoundError, RefusedError } from '../base/errors.js';
import { type CatalogTable, isUsable } from './catalog-table.js';
import { parseCheckpointDirName } from './layout.js';
import { showName } from './names.js';

export type CheckpointSelector = string;

export interface SelectorOptions {
  readonly run?: string;
  readonly metric?: string;
  readonly mode?: MetricMode;
}

/** The run and step an id such as `run/ckpt-100` or `run/ckpt-000000100` names, or null. */
export function runAndStep(id: string): { run: string; step: number } | null {
  const slash = id.lastIndexOf('/');
  const step = slash > 0 ? parseCheckpointDirName(id.slice(slash + 1)) : null;
  return step === null ? null : { run: id.slice(0, slash), step };
}

export function unambiguous(checkpoint: CheckpointInfo, what: string): CheckpointInfo {
  if (checkpoint.sameStepAs.length === 0) return checkpoint;
  const all = [checkpoint.id, ...checkpoint.sameStepAs].join(', ');
  throw new RefusedError(
    showName(what),
    `ambiguous: step ${checkpoint.step} of run "${showName(checkpoint.run)}" is held by more than one folder (${all}); remove or rename all but one, or name the folder exactly`,
  );
}

/** `run/ckpt-<step>` written another way (`ckpt-100` for `ckpt-000000100`): the folder holding that step. */
function byStep(catalog: CatalogTable, selector: string): CheckpointInfo | null {
  const named = runAndStep(selector);
  if (!named) return null;
  const holders = catalog.list(named.run).filter((c) => c.step === named.step);
  if (holders.length > 1) return unambiguous(holders[0] as CheckpointInfo, selector);
  return holders[0] ?? null;
}

/**
 * `byPath` finds what the selector names as a place (a folder's path, an object's address); the
 * error names `workspace` when nothing matches.
 */
export function resolveSelector(
  catalog: CatalogTable,
  workspace: string,
  selector: CheckpointSelector,
  options: SelectorOptions,
  byPath: (selector: string) => CheckpointInfo | undefined,
): CheckpointInfo {
  if (selector === 'latest') {
    const latest = catalog.latest(options.run);
    if (!latest) throw new NotFoundError(workspace, `no complete checkpoint${options.run ? ` in run "${showName(options.run)}"` : ''} to call latest`);
    return unambiguous(latest, 'latest');
  }
  if (selector === 'best') {
    if (!options.metric) throw new RefusedError('best', 'name the metric (--metric NAME)');
    const best = catalog.best(options.metric, options.mode ?? 'min', options.run);
    if (!best) throw new NotFoundError(workspace, `no complete checkpoint carries the metric "${options.metric}"`);
    return unambiguous(best, `best by ${options.metric}`);
  }
  const trimmed = selector.replace(/[\\/]+$/, '');
  const found = catalog.get(trimmed) ?? byStep(catalog, trimmed) ?? byPath(selector);
  if (found) return found;
  throw new NotFoundError(showName(selector), `not a checkpoint of the workspace ${workspace}`);
}

/** A checkpoint training may continue from: whole, usable, and the only folder of its step. */
export function resumable(checkpoint: CheckpointInfo, selector: CheckpointSelector): CheckpointInfo {
  const one = unambiguous(checkpoint, selector);
  if (!isUsable(one)) throw new RefusedError(one.id, `cannot be resumed from: it is ${one.status}: ${one.statusReason ?? 'no reason recorded'}`);
  return one;
}
