// CRC-32C (Castagnoli), unmasked, as stored in our manifests. The native implementation uses
// the SSE4.2/ARMv8 CRC instructions: a table-driven JS loop would cap save and load throughput
// well below the disk's, and verification runs over every byte of every checkpoint.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

export function crc32c(bytes: Uint8Array, previous = 0): number {
  if (bytes.byteLength === 0) return previous >>> 0;
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return nativeCrc32c(buffer, previous) >>> 0;
}

export function formatCrc(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
