// Raw Snappy block decompression (google/snappy format_description.txt): a varint of the
// uncompressed length, then literal and copy elements. TensorFlow's SavedModel writers have emitted
// Snappy-compressed index blocks (table_builder.cc kSnappyCompression), so reading them needs this.
// Hand-written because a block is at most a few hundred KiB and every length and back-reference
// must be checked against the input and output bounds before it is used.
import { ByteReader } from './byte-reader.js';

/**
 * Snappy's densest element, a 2-byte copy, yields at most 64 bytes (copy-1: 11 bytes), so no
 * valid stream expands by more than 32x; a larger claimed length is refused before allocating.
 */
const MAX_EXPANSION = 32;
/** Table blocks are about 256 KiB; one that claims more than this uncompressed is refused before allocating. */
const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

export function snappyDecompress(input: Uint8Array, file: string, fileOffset: number): Uint8Array {
  const reader = new ByteReader(input, file, fileOffset);
  const length = reader.varint32();
  if (length > MAX_BLOCK_BYTES) reader.fail(`Snappy block claims ${length} uncompressed bytes, more than the ${MAX_BLOCK_BYTES} a table block can be`, 0);
  if (length > input.length * MAX_EXPANSION) {
    reader.fail(`Snappy block claims ${length} uncompressed bytes from ${input.length} compressed ones, more than Snappy can encode`, 0);
  }
  const out = new Uint8Array(length);
  let written = 0;
  while (!reader.atEnd()) {
    const at = reader.position;
    const tag = reader.u8();
    const kind = tag & 3;
    if (kind === 0) {
      let literal = tag >>> 2;
      if (literal >= 60) {
        const extra = literal - 59;
        literal = 0;
        for (let i = 0; i < extra; i++) literal += reader.u8() * 2 ** (8 * i);
      }
      literal += 1;
      if (literal > length - written) reader.fail(`Snappy literal of ${literal} bytes runs past the ${length}-byte output`, at);
      out.set(reader.take(literal, 'Snappy literal'), written);
      written += literal;
      continue;
    }
    let copyLength: number;
    let distance: number;
    if (kind === 1) {
      copyLength = ((tag >>> 2) & 7) + 4;
      distance = ((tag >>> 5) << 8) | reader.u8();
    } else if (kind === 2) {
      copyLength = (tag >>> 2) + 1;
      distance = reader.u8() | (reader.u8() << 8);
    } else {
      copyLength = (tag >>> 2) + 1;
      distance = reader.fixed32();
    }
    if (distance === 0 || distance > written) reader.fail(`Snappy copy reaches ${distance} bytes back with only ${written} written`, at);
    if (copyLength > length - written) reader.fail(`Snappy copy of ${copyLength} bytes runs past the ${length}-byte output`, at);
    // Byte by byte: a copy may overlap its own output (distance < length repeats a pattern).
    for (let i = 0; i < copyLength; i++, written++) out[written] = out[written - distance] as number;
  }
  if (written !== length) reader.fail(`Snappy block ends after ${written} of its ${length} uncompressed bytes`);
  return out;
}
