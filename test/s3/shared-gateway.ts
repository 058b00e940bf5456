// The gateway the S3 test files share (started by global-setup.ts), or, when a run did not start
// one (a filter that did not name test/s3), one of the file's own.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, inject } from 'vitest';
import { parseS3Address } from '../../electron/core/storage/s3-address.js';
import { createS3Client } from '../../electron/core/storage/s3-client.js';
import { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { startCephGateway } from './ceph-gateway.js';
import type { SharedGateway } from './global-setup.js';

export async function useSharedGateway(): Promise<{ gateway: SharedGateway; stop: () => Promise<void> }> {
  const shared = inject('cephGateway');
  if (shared) return { gateway: shared, stop: async () => undefined };
  const own = await startCephGateway();
  return { gateway: own, stop: () => own.stop() };
}

/**
 * Registers the file's beforeAll/afterAll: the shared gateway, a bucket of the file's own and an
 * S3Storage on `address` (s3://<bucket>/<prefix>). The returned function gives it to the tests.
 */
let gatewayInUse: SharedGateway | null = null;

/** A storage of its own (its own client) at another address of the gateway useS3Storage started: for buckets that do not exist. */
export function storageAt(address: string): S3Storage {
  if (gatewayInUse === null) throw new Error('storageAt: call it in a test of a file that uses useS3Storage');
  const { client, connection } = createS3Client({
    endpoint: gatewayInUse.endpoint,
    credentials: { accessKeyId: gatewayInUse.accessKeyId, secretAccessKey: gatewayInUse.secretAccessKey },
  });
  return new S3Storage(client, parseS3Address(address), connection.endpoint);
}

/** What a child process (the CLI) needs in its environment to reach that gateway, as a user's shell would give it. */
export function gatewayEnv(): Record<string, string> {
  if (gatewayInUse === null) throw new Error('gatewayEnv: call it in a test of a file that uses useS3Storage');
  return { AWS_ENDPOINT_URL: gatewayInUse.endpoint, AWS_ACCESS_KEY_ID: gatewayInUse.accessKeyId, AWS_SECRET_ACCESS_KEY: gatewayInUse.secretAccessKey };
}

/**
 * The gateway's endpoint and keys (without the endpoint when `withEndpoint` is false: an app test
 * types it into the form) and `extra` in process.env for the describe block, put back after it:
 * the Studio and the trainer it starts take them from the environment, as a user's shell gives them.
 */
export function useGatewayEnv(options: { withEndpoint?: boolean; extra?: () => Record<string, string> } = {}): void {
  const saved = new Map<string, string | undefined>();
  beforeAll(() => {
    for (const [name, value] of Object.entries({ ...gatewayEnv(), ...(options.extra?.() ?? {}) })) {
      if (name === 'AWS_ENDPOINT_URL' && options.withEndpoint === false) continue;
      saved.set(name, process.env[name]);
      process.env[name] = value;
    }
  });
  afterAll(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

export function useS3Storage(address: string, setUp: (storage: S3Storage) => Promise<void> = async () => undefined): () => S3Storage {
  let storage: S3Storage | null = null;
  let stopGateway = async (): Promise<void> => undefined;
  beforeAll(async () => {
    const shared = await useSharedGateway();
    stopGateway = shared.stop;
    gatewayInUse = shared.gateway;
    const { client, connection } = createS3Client({
      endpoint: shared.gateway.endpoint,
      credentials: { accessKeyId: shared.gateway.accessKeyId, secretAccessKey: shared.gateway.secretAccessKey },
    });
    const where = parseS3Address(address);
    await client.send(new CreateBucketCommand({ Bucket: where.bucket }));
    storage = new S3Storage(client, where, connection.endpoint);
    await setUp(storage);
  }, 120_000);
  afterAll(async () => {
    storage?.client.destroy();
    await stopGateway();
  });
  return () => {
    if (storage === null) throw new Error('useS3Storage: the storage is made in beforeAll');
    return storage;
  };
}
