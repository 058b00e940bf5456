// `s3://bucket/prefix` as users type it (and TensorFlow, TensorBoard and fsspec write it): the
// bucket and the key prefix every object of the workspace lives under. Parsed once, at the edge,
// with a sentence naming what is wrong; the rest of the code only sees a checked address.
import { UsageError } from '../base/errors.js';

export interface S3Address {
  readonly bucket: string;
  /** '' or a prefix ending in '/': every key of the workspace starts with it. */
  readonly prefix: string;
}

const SCHEME = 's3://';
/** S3's rules for bucket names (3–63 of lowercase letters, digits, dots and hyphens; ends alphanumeric). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Address(text: string): boolean {
  return text.toLowerCase().startsWith(SCHEME);
}

export function parseS3Address(text: string): S3Address {
  if (!isS3Address(text)) throw new UsageError(text, `not an S3 address: it must start with ${SCHEME}`);
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket) || bucket.includes('..'))
    throw new UsageError(
      text,
      `"${bucket}" is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)`,
    );
  const path = slash === -1 ? '' : rest.slice(slash + 1);
  const parts = path.split('/').filter((p) => p !== '');
  for (const part of parts)
    if (part === '.' || part === '..') throw new UsageError(text, `the prefix may not hold "${part}" as a part: keys are not paths to resolve`);
  return { bucket, prefix: parts.length === 0 ? '' : `${parts.join('/')}/` };
}

export function formatS3Address(address: S3Address): string {
  return `${SCHEME}${address.bucket}/${address.prefix}`;
}
