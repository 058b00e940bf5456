// Whether the S3 tests run here: they need a real Ceph gateway (ceph-gateway.ts). Under CI=true a
// machine without it fails the run (.ci/run installs it); elsewhere the S3 tests are skipped and
// test/s3/global-setup.ts prints one line saying how to install it.
import { INSTALL_HINT, missingCephBinaries } from './ceph-gateway.js';

export function s3Available(): boolean {
  const missing = missingCephBinaries();
  if (missing.length === 0) return true;
  if (process.env['CI'] === 'true') throw new Error(`CI=true and the S3 tests cannot run: ${missing.join(', ')} not found (${INSTALL_HINT})`);
  return false;
}
