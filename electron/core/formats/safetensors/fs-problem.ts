// A reader may throw only CheckpointFormatError or DamagedTensorError for what it is given, so a
// file-system failure (missing, unreadable, a loop of links) becomes one that names the file.
import { CheckpointFormatError, DamagedTensorError } from '../../base/errors.js';
import { isMissing } from '../../base/regular-file.js';

export function asFormatError(file: string, error: unknown): Error {
  if (error instanceof CheckpointFormatError || error instanceof DamagedTensorError) return error;
  if (isMissing(error)) return new CheckpointFormatError(file, 'does not exist');
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new CheckpointFormatError(file, `cannot be read (${code ?? message})`);
}

/** Runs `action`, turning whatever it throws about `file` into a CheckpointFormatError. */
export async function aboutFile<T>(file: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw asFormatError(file, error);
  }
}
