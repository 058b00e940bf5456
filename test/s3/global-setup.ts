// Once per `vitest run`: where the S3 tests cannot run, one line says so and how to fix it (the
// test files skip themselves: s3-available.ts). Under CI=true they must run, and the run fails.
import { INSTALL_HINT, missingCephBinaries } from './ceph-gateway.js';

export default function setup(): void {
  const missing = missingCephBinaries();
  if (missing.length === 0) return;
  const line = `S3 tests skipped: no Ceph gateway here (${missing.join(', ')} not found); install it with: ${INSTALL_HINT}`;
  if (process.env['CI'] === 'true') throw new Error(`CI=true: ${line}`);
  console.log(line);
}
