// What an S3 failure means to a user, in one sentence naming the address: no stack, no request
// id soup, never a secret. The SDK's errors carry a name (the S3 error code) and an HTTP status.
import { NotFoundError, RefusedError, StorageError } from '../base/errors.js';

const CREDENTIALS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AuthorizationHeaderMalformed',
]);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError']);

interface SdkFailure {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

function status(error: SdkFailure): number | null {
  const code = error.$metadata?.httpStatusCode;
  return typeof code === 'number' ? code : null;
}

/** The S3 error code (NoSuchBucket, SlowDown…) or the system error code (ECONNREFUSED…). */
export function s3ErrorName(error: unknown): string {
  const e = (error ?? {}) as SdkFailure;
  if (typeof e.code === 'string' && NETWORK.has(e.code)) return e.code;
  return typeof e.name === 'string' ? e.name : 'Error';
}

export function isS3NotFound(error: unknown): boolean {
  const name = s3ErrorName(error);
  return name === 'NoSuchKey' || name === 'NotFound' || (name !== 'NoSuchBucket' && status((error ?? {}) as SdkFailure) === 404);
}

export function isS3PreconditionFailed(error: unknown): boolean {
  return s3ErrorName(error) === 'PreconditionFailed' || status((error ?? {}) as SdkFailure) === 412;
}

/** A failure as one of the errors the Studio turns into its codes, naming `target` (an s3:// address). */
export function describeS3Error(error: unknown, target: string, endpoint: string | null, profile: string | null = null): Error {
  const name = s3ErrorName(error);
  const where = endpoint ?? 'AWS S3';
  if (name === 'NoSuchBucket') return new NotFoundError(target, 'the bucket does not exist (or these credentials cannot see it)');
  if (isS3NotFound(error)) return new NotFoundError(target, 'no such object');
  if (CREDENTIALS.has(name))
    return new RefusedError(target, `the store does not accept these credentials (${name}): check the access key and secret, or the profile`);
  if (name === 'AccessDenied' || status((error ?? {}) as SdkFailure) === 403)
    return new RefusedError(target, 'access denied: these credentials may not do this here');
  if (name === 'CredentialsProviderError' && profile !== null)
    return new RefusedError(target, `no credentials for the AWS profile "${profile}" in ~/.aws/config or ~/.aws/credentials`);
  if (name === 'CredentialsProviderError')
    return new RefusedError(
      target,
      'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials (--profile)',
    );
  if (NETWORK.has(name)) return new StorageError(target, `cannot reach the S3 endpoint ${where} (${name})`);
  if (name === 'SlowDown' || status((error ?? {}) as SdkFailure) === 503)
    return new StorageError(target, `the store at ${where} is busy (503 SlowDown) after every retry`);
  const code = status((error ?? {}) as SdkFailure);
  return new StorageError(target, `the store at ${where} failed${code === null ? '' : ` with HTTP ${code}`} (${name})`);
}
