// An S3 workspace's storage from what a user typed: the address (s3://bucket/prefix) and how to
// reach the store. Every process that talks to the store (the Studio, the trainer, the CLI) opens
// it here, so the client is configured one way and credentials never travel between processes:
// each takes them from the AWS chain where it runs.
import { parseS3Address } from './s3-address.js';
import { type S3ConnectionOptions, createS3Client } from './s3-client.js';
import { S3Storage } from './s3-storage.js';

export { isS3Address } from './s3-address.js';

export function openS3Storage(address: string, connection: S3ConnectionOptions = {}): S3Storage {
  const where = parseS3Address(address);
  const { client, connection: resolved } = createS3Client(connection);
  return new S3Storage(client, where, resolved.endpoint, resolved.profile);
}
