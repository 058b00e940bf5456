// The ground layer's errors: each names the file (or target) and what is wrong with it, and
// carries the contract's error code, so every layer above can raise them and every host read them.
import { quoted } from './describe-value.js';

/**
 * An object's address in a store (`s3://bucket/key`) after path.join has made it `s3:/bucket/key`
 * (storage/file-access.ts reads both): said as a user writes it.
 */
function shownAddress(file: string): string {
  return file.replace(/^s3:\/+/, 's3://');
}

/**
 * Every error the store raises names the file it is about and what is wrong, so that a user
 * reading it in the CLI or the app knows which bytes to look at without a debugger.
 */
export class CheckpointFormatError extends Error {
  override readonly name = 'CheckpointFormatError';
  readonly code = 'damaged';
  readonly file: string;
  constructor(
    file: string,
    readonly problem: string,
    readonly byteOffset?: number,
  ) {
    super(`${shownAddress(file)}${byteOffset === undefined ? '' : ` (byte ${byteOffset})`}: ${problem}`);
    this.file = shownAddress(file);
  }
}

/** A tensor whose bytes do not match what the manifest promised. */
export class DamagedTensorError extends Error {
  override readonly name = 'DamagedTensorError';
  readonly code = 'damaged';
  readonly file: string;
  constructor(
    file: string,
    readonly tensor: string,
    readonly problem: string,
  ) {
    super(`${shownAddress(file)}: tensor ${quoted(tensor)}: ${problem}`);
    this.file = shownAddress(file);
  }
}

/** A request the store refuses in order to protect data (deletion outside the workspace, …). */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
  readonly code = 'refused';
  constructor(
    readonly target: string,
    readonly problem: string,
  ) {
    super(`${target}: refused: ${problem}`);
  }
}

/** The run is being written by another live process. */
export class RunLockedError extends Error {
  override readonly name = 'RunLockedError';
  readonly code = 'busy';
  constructor(
    readonly runDir: string,
    readonly holder: { pid: number; host: string; since: string },
  ) {
    super(`${runDir}: locked by process ${holder.pid} on ${holder.host} since ${holder.since}`);
  }
}

/** A failure about one named thing (a path, an address, a flag): "<target>: <problem>". */
abstract class TargetedError extends Error {
  abstract override readonly name: string;
  abstract readonly code: string;
  constructor(
    readonly target: string,
    readonly problem: string,
  ) {
    super(`${target}: ${problem}`);
  }
}

/** What was asked for does not exist: a workspace folder, a run, a checkpoint, a trash entry. */
export class NotFoundError extends TargetedError {
  override readonly name = 'NotFoundError';
  readonly code = 'not-found';
}

/** What the user typed cannot be used (an address, a flag). */
export class UsageError extends TargetedError {
  override readonly name = 'UsageError';
  readonly code = 'usage';
}

/** The store could not be reached or answered with a failure: one sentence, never a stack or a secret. */
export class StorageError extends TargetedError {
  override readonly name = 'StorageError';
  readonly code = 'io';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
