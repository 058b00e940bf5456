// Which readers read through storage/file-access.ts, and so can read a checkpoint where it lies in
// an open S3 workspace (issue 18): all of them now (the .keras zip reader since yauzl reads
// through it too). A format added later that reads files on disk by path is left out of this set:
// in a bucket its checkpoints are listed, and reading one is refused in one sentence, with what to
// do instead.
import { isStoragePath, shownPath } from '../storage/file-access.js';
import type { ForeignFormat } from './foreign.js';
import { FORMAT_NAMES, isForeignFormat } from './registry.js';

const READ_FROM_STORAGE: ReadonlySet<ForeignFormat> = new Set<ForeignFormat>(['tf-bundle', 'safetensors', 'tfjs-layers', 'keras-h5', 'keras-v3']);

/** Why the checkpoint at `file` (of `format`) cannot be read where it is, or null when it can. */
export function storageReadProblem(file: string, format: string): string | null {
  if (!isStoragePath(file) || !isForeignFormat(format) || READ_FROM_STORAGE.has(format)) return null;
  return `a checkpoint of ${FORMAT_NAMES[format]} is not read from an object store yet: import it (checkpoint-studio import ${shownPath(file)}) to read it on this machine`;
}
