// A string tensor's stored layout (tensor_bundle.cc WriteStringTensor/ReadStringTensor): a varint64
// length per element, a masked CRC-32C of those lengths (each taken as u32 LE, or u64 LE above
// 2^32-1), then the bytes of every element back to back. The entry's checksum covers the lengths
// (as fixed-width numbers, not their varints), the 4 stored CRC bytes and the string bytes.
import { crc32c } from '../../base/crc32c.js';
import { DamagedTensorError } from '../../base/errors.js';
import { unmaskCrc } from './masked-crc.js';

/** The unmasked checksum TensorFlow computes over a string tensor's stored bytes; throws if the layout is broken. */
export function stringTensorChecksum(stored: Uint8Array, elements: number, file: string, tensor: string): number {
  const damaged = (problem: string): never => {
    throw new DamagedTensorError(file, tensor, problem);
  };
  // Each element needs at least one length byte, and the lengths' CRC four more.
  if (elements + 4 > stored.length) damaged(`${stored.length} bytes cannot hold ${elements} string lengths and their checksum`);
  let pos = 0;
  let total = 0;
  let lengthsCrc = 0;
  const fixed = Buffer.alloc(8);
  for (let i = 0; i < elements; i++) {
    let length = 0;
    let shift = 0;
    for (;;) {
      if (pos >= stored.length) damaged(`the lengths run past the tensor's ${stored.length} bytes`);
      if (shift > 63) damaged(`string ${i} has a length varint longer than 10 bytes`);
      const byte = stored[pos++] as number;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    if (!Number.isSafeInteger(length)) damaged(`string ${i} claims a length of ${length} bytes`);
    total += length;
    if (total > stored.length) damaged(`string ${i} claims ${length} bytes, past the tensor's ${stored.length}`);
    if (length <= 0xffffffff) {
      fixed.writeUInt32LE(length, 0);
      lengthsCrc = crc32c(fixed.subarray(0, 4), lengthsCrc);
    } else {
      fixed.writeBigUInt64LE(BigInt(length), 0);
      lengthsCrc = crc32c(fixed, lengthsCrc);
    }
  }
  if (pos + 4 + total !== stored.length) {
    damaged(`lengths (${pos} bytes), their checksum (4) and strings (${total}) make ${pos + 4 + total} bytes, not the stored ${stored.length}`);
  }
  const storedLengthsCrc = Buffer.from(stored.buffer, stored.byteOffset + pos, 4).readUInt32LE(0);
  if (unmaskCrc(storedLengthsCrc) !== lengthsCrc) damaged('the checksum of the string lengths does not match them');
  return crc32c(stored.subarray(pos), lengthsCrc);
}

/** The strings themselves, from bytes `stringTensorChecksum` has accepted (it bounds every length). */
export function stringTensorElements(stored: Uint8Array, elements: number): Uint8Array[] {
  const lengths: number[] = [];
  let pos = 0;
  for (let i = 0; i < elements; i++) {
    let length = 0;
    let shift = 0;
    for (;;) {
      const byte = stored[pos++] as number;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    lengths.push(length);
  }
  pos += 4;
  return lengths.map((length) => {
    const element = stored.subarray(pos, pos + length);
    pos += length;
    return element;
  });
}
