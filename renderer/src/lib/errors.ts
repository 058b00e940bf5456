// Errors as a person reads them: the one line the core wrote (it names the file or the value),
// never a stack trace. The code is kept for decisions (a `busy` trainer, a `not-found` run).
import { type ErrorCode, ErrorCodeSchema, StudioError, StudioErrorDataSchema } from './contract.js';

/** The string a thrown value carries as its message, if it has one. */
function messageOf(error: unknown): string | null {
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : null;
}

/** A thrown value without a message, said as what it is: never "[object Object]". */
function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return `an unexpected failure (${String(value)})`;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return `an unexpected failure: ${json.length > 200 ? `${json.slice(0, 200)}…` : json}`;
  } catch {
    // A cycle, or a getter that throws: nothing more to say about it.
  }
  return 'an unexpected failure that could not be read';
}

export function errorMessage(error: unknown): string {
  const message = messageOf(error) ?? describe(error);
  return message.split('\n')[0] ?? message;
}

export function errorCode(error: unknown): ErrorCode | null {
  if (error instanceof StudioError) return error.code;
  const code = ErrorCodeSchema.safeParse((error as { code?: unknown } | null)?.code);
  return code.success ? code.data : null;
}

/**
 * Whatever a host's call rejected with, as the StudioError browser mode's client gives: the
 * desktop's preload rejects with plain { code, message } data (the context bridge would strip an
 * Error's code); anything else is a failure of ours, 'internal', with what could be read of it.
 */
export function asStudioError(error: unknown): StudioError {
  if (error instanceof StudioError) return error;
  const data = StudioErrorDataSchema.safeParse(error);
  if (data.success) return new StudioError(data.data.code, data.data.message);
  return new StudioError('internal', messageOf(error) ?? describe(error));
}
