// Errors as a person reads them: the one line the core wrote (it names the file or the value),
// never a stack trace. The code is kept for decisions (a `busy` trainer, a `not-found` run).
import type { ErrorCode } from './contract';

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.message;
  return String(error);
}

export function errorCode(error: unknown): ErrorCode | null {
  if (error instanceof ApiError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? (code as ErrorCode) : null;
}
