// The gateway the S3 test files share (started by global-setup.ts), or, when a run did not start
// one (a filter that did not name test/s3), one of the file's own.
import { inject } from 'vitest';
import { startCephGateway } from './ceph-gateway.js';
import type { SharedGateway } from './global-setup.js';

export async function useSharedGateway(): Promise<{ gateway: SharedGateway; stop: () => Promise<void> }> {
  const shared = inject('cephGateway');
  if (shared) return { gateway: shared, stop: async () => undefined };
  const own = await startCephGateway();
  return { gateway: own, stop: () => own.stop() };
}
