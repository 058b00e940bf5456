// A file an index names must be a file of the index's own folder: a name with `..`, an absolute
// path or a symbolic link could point an import at any file the user can read, and import copies
// what the index names.
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { quoted } from '../../base/describe-value.js';
import { CheckpointFormatError } from '../../base/errors.js';
import { describeFileKind, isMissing } from '../../base/regular-file.js';
import { isStoragePath, statFile } from '../../storage/file-access.js';

/**
 * `name` (as written in `indexFile`) checked to be a regular file under `dir`, reached through no
 * link; returns it `/`-separated. Errors name the index file and the name it gave.
 */
export async function fileInsideFolder(indexFile: string, dir: string, name: string): Promise<string> {
  const refuse = (problem: string): never => {
    throw new CheckpointFormatError(indexFile, `names ${quoted(name)}, ${problem}`);
  };
  if (name.length === 0 || name.includes('\0') || name.includes('\\') || path.posix.isAbsolute(name) || path.win32.isAbsolute(name)) {
    return refuse('which is not a file name inside its folder');
  }
  const parts = name.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) return refuse('which leads outside its folder');
  const full = path.join(dir, ...parts);
  // An object store has no links and no `..`: the key is the name under the folder's prefix.
  if (isStoragePath(dir)) {
    const found = await statFile(full);
    if (found === null) return refuse('which is missing');
    if (found.kind !== 'file') return refuse(`which is ${found.description}, not a regular file`);
    return parts.join('/');
  }
  let realFull: string;
  let realDir: string;
  try {
    const info = await lstat(full);
    if (info.isSymbolicLink()) return refuse('which is a symbolic link (links are not followed)');
    if (!info.isFile()) return refuse(`which is ${describeFileKind(info)}, not a regular file`);
    [realFull, realDir] = await Promise.all([realpath(full), realpath(dir)]);
  } catch (error) {
    if (error instanceof CheckpointFormatError) throw error;
    if (isMissing(error)) return refuse('which is missing');
    // The path is made of the index's text: the file system's own message, which quotes it, is not passed on.
    return refuse(`which cannot be read (${(error as NodeJS.ErrnoException | null)?.code ?? 'an unknown error'})`);
  }
  if (realFull !== path.join(realDir, ...parts)) return refuse('which leads outside its folder through a symbolic link');
  return parts.join('/');
}
