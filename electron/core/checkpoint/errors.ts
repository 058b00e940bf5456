/**
 * Every error the store raises names the file it is about and what is wrong, so that a user
 * reading it in the CLI or the app knows which bytes to look at without a debugger.
 */
export class CheckpointFormatError extends Error {
  override readonly name = 'CheckpointFormatError';
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly byteOffset?: number,
  ) {
    super(`${file}${byteOffset === undefined ? '' : ` (byte ${byteOffset})`}: ${problem}`);
  }
}

/** A tensor whose bytes do not match what the manifest promised. */
export class DamagedTensorError extends Error {
  override readonly name = 'DamagedTensorError';
  constructor(
    readonly file: string,
    readonly tensor: string,
    readonly problem: string,
  ) {
    super(`${file}: tensor "${tensor}": ${problem}`);
  }
}

/** A request the store refuses in order to protect data (deletion outside the workspace, …). */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
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
  constructor(
    readonly runDir: string,
    readonly holder: { pid: number; host: string; since: string },
  ) {
    super(`${runDir}: locked by process ${holder.pid} on ${holder.host} since ${holder.since}`);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
