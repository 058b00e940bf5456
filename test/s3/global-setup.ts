// Once per `vitest run`. Where the S3 tests cannot run, one line says so and how to fix it (the
// test files skip themselves: s3-available.ts); under CI=true they must run, and the run fails.
// Where they run, one gateway is started for all of them (each file uses buckets of its own), so
// the run pays a cluster's start once; files that stop the gateway as a fault start their own.
import type { TestProject } from 'vitest/node';
import { type Gateway, INSTALL_HINT, missingCephBinaries, startCephGateway } from './ceph-gateway.js';

export interface SharedGateway {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cephGateway: SharedGateway | null;
  }
}

/** Whether this run includes S3 tests: no file filter given, or one naming them. */
function runsS3Tests(): boolean {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run' && !a.endsWith('vitest') && !a.endsWith('vitest.mjs'));
  return filters.length === 0 || filters.some((f) => f.includes('s3'));
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const missing = missingCephBinaries();
  if (missing.length > 0) {
    const line = `S3 tests skipped: no Ceph gateway here (${missing.join(', ')} not found); install it with: ${INSTALL_HINT}`;
    if (process.env['CI'] === 'true') throw new Error(`CI=true: ${line}`);
    console.log(line);
    project.provide('cephGateway', null);
    return undefined;
  }
  if (!runsS3Tests()) {
    project.provide('cephGateway', null);
    return undefined;
  }
  const gateway: Gateway = await startCephGateway({ memoryBytes: 2 * 1024 ** 3 });
  project.provide('cephGateway', { endpoint: gateway.endpoint, accessKeyId: gateway.accessKeyId, secretAccessKey: gateway.secretAccessKey });
  return () => gateway.stop();
}
