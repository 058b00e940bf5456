// Errors as a person reads them: the one line the core wrote (it names the file or the value),
// never a stack trace. The code is kept for decisions (a `busy` trainer, a `not-found` run).
import { type ErrorCode, StudioError } from './contract';

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.message;
  return String(error);
}

export function errorCode(error: unknown): ErrorCode | null {
  if (error instanceof StudioError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? (code as ErrorCode) : null;
}
