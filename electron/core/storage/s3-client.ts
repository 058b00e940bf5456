// One S3 client for a workspace, configured as the AWS tools are: credentials from the standard
// chain (environment, ~/.aws/credentials and config profiles, SSO where configured), the endpoint
// from --s3-endpoint, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, path-style addressing for an
// endpoint that is an IP address or localhost (virtual-host names cannot resolve there) and on
// request. Works against AWS S3, Google Cloud Storage's S3 interoperability, Ceph RGW and MinIO.
// Secrets stay inside the SDK: nothing here logs, returns or formats them.
import { isIP } from 'node:net';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { UsageError } from '../base/errors.js';

// The SDK warns on every Node before 22 that its releases after January 2027 will need 22; the
// app's Electron has 22, and a line on every CLI command would only alarm (the client works).
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export interface S3ConnectionOptions {
  /** --s3-endpoint: an http(s) URL; else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS's own. */
  readonly endpoint?: string;
  /** --s3-path-style: bucket in the path (https://host/bucket/key), not the host name. */
  readonly pathStyle?: boolean;
  /** --profile / AWS_PROFILE: a profile of ~/.aws/config and ~/.aws/credentials. */
  readonly profile?: string;
  /** --s3-region; else AWS_REGION / AWS_DEFAULT_REGION / the profile's; us-east-1 when none (the bucket's own is followed). */
  readonly region?: string;
  /** Attempts per request, retries included (throttling, 5xx, dropped connections). */
  readonly maxAttempts?: number;
  /** Keys given in code (tests); users' come from the chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface ResolvedS3Connection {
  readonly endpoint: string | null;
  readonly pathStyle: boolean;
  readonly profile: string | null;
  readonly region: string | null;
}

type Environment = Readonly<Record<string, string | undefined>>;

function checkedEndpoint(text: string, from: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(from, `"${text}" is not a URL (example: http://127.0.0.1:8000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(from, `"${text}" must be an http:// or https:// URL`);
  if (url.username !== '' || url.password !== '')
    throw new UsageError(from, 'the endpoint may not hold a user name or password: credentials come from the AWS chain');
  return url.origin + (url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''));
}

/** Path style is the only one that reaches a bucket on an IP address or localhost. */
export function needsPathStyle(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
  return isIP(host) !== 0 || host === 'localhost' || host.endsWith('.localhost');
}

export function resolveS3Connection(options: S3ConnectionOptions, env: Environment = process.env): ResolvedS3Connection {
  const given =
    options.endpoint !== undefined
      ? { text: options.endpoint, from: '--s3-endpoint' }
      : env['AWS_ENDPOINT_URL_S3']
        ? { text: env['AWS_ENDPOINT_URL_S3'], from: 'AWS_ENDPOINT_URL_S3' }
        : env['AWS_ENDPOINT_URL']
          ? { text: env['AWS_ENDPOINT_URL'], from: 'AWS_ENDPOINT_URL' }
          : null;
  const endpoint = given === null ? null : checkedEndpoint(given.text, given.from);
  return {
    endpoint,
    pathStyle: options.pathStyle ?? (endpoint !== null && needsPathStyle(endpoint)),
    profile: options.profile ?? env['AWS_PROFILE'] ?? null,
    region: options.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? null,
  };
}

export function s3ClientConfig(connection: ResolvedS3Connection, maxAttempts = 5): S3ClientConfig {
  return {
    ...(connection.endpoint !== null ? { endpoint: connection.endpoint } : {}),
    ...(connection.profile !== null ? { profile: connection.profile } : {}),
    // A region is needed to sign; S3-compatible stores take any, and AWS answers a wrong one with a
    // redirect the client follows.
    region: connection.region ?? 'us-east-1',
    followRegionRedirects: true,
    forcePathStyle: connection.pathStyle,
    // The newer default checksum headers on streamed bodies are refused by Ceph RGW and others;
    // our own CRC-32C in the manifest is what proves the bytes.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Adaptive retries slow down on throttling (503 SlowDown) instead of hammering the store.
    retryMode: 'adaptive',
    maxAttempts,
  };
}

export function createS3Client(options: S3ConnectionOptions, env: Environment = process.env): { client: S3Client; connection: ResolvedS3Connection } {
  const connection = resolveS3Connection(options, env);
  const config = s3ClientConfig(connection, options.maxAttempts);
  return { client: new S3Client(options.credentials ? { ...config, credentials: { ...options.credentials } } : config), connection };
}
