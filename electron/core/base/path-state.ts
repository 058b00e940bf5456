// Whether something is at a path. Only ENOENT and ENOTDIR (a file where a folder was expected)
// mean "nothing there": a permission refused, a loop of links or an I/O error says nothing about
// absence, and taking it for absence would let an import, an export or a new run go ahead on a
// name that is in fact taken. Those errors are raised as they are (Node names the call and the
// path), so the user learns which path could not be looked at.
import { type Stats, lstatSync, statSync } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';

export type PathKind = 'absent' | 'file' | 'directory' | 'symlink' | 'other';

export interface LookOptions {
  /** Follow a symbolic link to what it names (stat) instead of describing the link (lstat, the default). */
  readonly follow?: boolean;
}

/** True when `error` says there is nothing at the path, as opposed to the path being unreadable. */
export function isAbsence(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The path's stats, or null when nothing is there; any other failure is raised. */
export async function statIfPresent(target: string, options: LookOptions = {}): Promise<Stats | null> {
  try {
    return await (options.follow ? stat(target) : lstat(target));
  } catch (error) {
    if (isAbsence(error)) return null;
    throw error;
  }
}

/** The same, synchronously: for the catalog's scan, which reads thousands of folders in a row. */
export function statIfPresentSync(target: string, options: LookOptions = {}): Stats | null {
  try {
    return options.follow ? statSync(target) : lstatSync(target);
  } catch (error) {
    if (isAbsence(error)) return null;
    throw error;
  }
}

export async function exists(target: string, options: LookOptions = {}): Promise<boolean> {
  return (await statIfPresent(target, options)) !== null;
}

export async function pathKind(target: string, options: LookOptions = {}): Promise<PathKind> {
  const info = await statIfPresent(target, options);
  if (info === null) return 'absent';
  if (info.isSymbolicLink()) return 'symlink';
  if (info.isDirectory()) return 'directory';
  return info.isFile() ? 'file' : 'other';
}
