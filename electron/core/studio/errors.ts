// Every failure leaves the Studio as a StudioError with a stable code and one line for the user.
// Hosts decide what a code means to them (an exit code, a message in place); nobody looks at an
// error's class.
import { ZodError } from 'zod';
import { type ErrorCode, ErrorCodeSchema, type StudioErrorData, StudioError } from '../../contract.js';
import { errorMessage } from '../base/errors.js';

/** System error codes and what they mean to a user. */
const SYSTEM_CODES: Readonly<Record<string, ErrorCode>> = {
  ENOENT: 'not-found',
  ENOTDIR: 'not-found',
  EEXIST: 'refused',
  EISDIR: 'refused',
  ENOTEMPTY: 'refused',
  EXDEV: 'refused',
  EBUSY: 'busy',
  ETXTBSY: 'busy',
};

/** `config.batchSize: Too small: expected number to be >0`: the field, then what is wrong with it. */
function describeZodError(error: ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`).join('; ');
}

export function toStudioError(error: unknown): StudioError {
  if (error instanceof StudioError) return error;
  if (error instanceof ZodError) return new StudioError('usage', describeZodError(error));
  const code = (error as { code?: unknown } | null)?.code;
  const known = ErrorCodeSchema.safeParse(code);
  if (known.success) return new StudioError(known.data, errorMessage(error));
  // Node's system errors name the call and the path ("ENOSPC: no space left on device, write").
  if (typeof code === 'string' && typeof (error as { syscall?: unknown }).syscall === 'string') {
    return new StudioError(SYSTEM_CODES[code] ?? 'io', errorMessage(error));
  }
  const internal = new StudioError('internal', errorMessage(error));
  if (error instanceof Error && error.stack) internal.stack = error.stack;
  return internal;
}

export function errorData(error: unknown): StudioErrorData {
  const studio = toStudioError(error);
  return { code: studio.code, message: studio.message };
}
