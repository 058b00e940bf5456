// Reading a folder someone asks us to import. The source is never written to, never followed
// through a symbolic link (a link inside it is refused: it may lead anywhere, and what it points
// at could change between our check and our read), and never waited on (a pipe is refused).
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointFormatError, NotFoundError, RefusedError } from '../base/errors.js';
import { describeFileKind } from '../base/regular-file.js';

export type EntryKind = 'file' | 'folder' | 'link' | 'other';

/** One folder of the source, as it was when listed: names and what each is (not followed). */
export interface SourceFolder {
  /** The folder's absolute path. */
  readonly path: string;
  readonly entries: ReadonlyMap<string, EntryKind>;
}

/** Lists a folder without following anything in it. */
export async function listSourceFolder(dir: string): Promise<SourceFolder> {
  const entries = new Map<string, EntryKind>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    entries.set(entry.name, entry.isSymbolicLink() ? 'link' : entry.isFile() ? 'file' : entry.isDirectory() ? 'folder' : 'other');
  }
  return { path: dir, entries };
}

/** The folder a user named, as an absolute real path; it must be a folder. */
export async function openSource(source: string): Promise<SourceFolder> {
  if (!path.isAbsolute(source)) throw new RefusedError(source, 'not an absolute path; name the folder to import by its full path');
  let real: string;
  try {
    // The folder the user named may itself be reached through a link: that is their choice of
    // path. Only links inside it are refused.
    real = await realpath(source);
  } catch {
    throw new NotFoundError(source, 'no such folder');
  }
  const info = await lstat(real);
  if (!info.isDirectory()) throw new RefusedError(source, `is ${describeFileKind(info)}, not a folder; import a checkpoint or run folder`);
  return listSourceFolder(real);
}

/** Refuses the first entry of `folder` that is a symbolic link or not a file or folder. */
export function refuseOddEntries(folder: SourceFolder): void {
  for (const [name, kind] of folder.entries) {
    const file = path.join(folder.path, name);
    if (kind === 'link')
      throw new RefusedError(
        file,
        'is a symbolic link; links inside an imported folder are not followed, so the folder cannot be imported whole (copy the file in its place)',
      );
    if (kind === 'other') throw new RefusedError(file, 'is not a regular file or a folder (a pipe, socket or device); remove it from the folder to import');
  }
}

/** O_NOFOLLOW: a file swapped for a link after it was listed is still not followed. */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** Opens a file of the source for reading: a regular file, not through a link. */
export async function openSourceFile(file: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(file, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(file, 'missing');
    if (code === 'ELOOP') throw new RefusedError(file, 'is a symbolic link; links inside an imported folder are not followed');
    throw error;
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new CheckpointFormatError(file, `is ${describeFileKind(info)}, not a regular file`);
  }
  return { handle, size: info.size };
}

/** Reads a small text file of the source (a manifest, run.json) whole. */
export async function readSourceText(file: string, maxBytes: number): Promise<string> {
  const { handle, size } = await openSourceFile(file);
  try {
    if (size > maxBytes) throw new CheckpointFormatError(file, `is ${size} bytes, more than such a file can hold (${maxBytes})`);
    return await handle.readFile({ encoding: 'utf8' });
  } finally {
    await handle.close();
  }
}
