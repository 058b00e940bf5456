// Errors of the storage seam that the ground layer does not already have.
/** What the user typed cannot be used (an address, a flag). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'usage';
  constructor(
    readonly target: string,
    readonly problem: string,
  ) {
    super(`${target}: ${problem}`);
  }
}

/** The store could not be reached or answered with a failure: one sentence, never a stack or a secret. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code = 'io';
  constructor(
    readonly target: string,
    readonly problem: string,
  ) {
    super(`${target}: ${problem}`);
  }
}
