// Constants of the LevelDB table format as TensorFlow uses it (tsl/lib/io/format.h, table_options.h).

/** The last 8 bytes of every table (kTableMagicNumber), little-endian. */
export const TABLE_MAGIC = Uint8Array.of(0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb);
/** Two BlockHandles of at most 10+10 bytes each, zero padded, then the magic. */
export const FOOTER_BYTES = 48;
export const FOOTER_HANDLES_BYTES = 40;
/** One compression-type byte and a masked CRC-32C after every block. */
export const BLOCK_TRAILER_BYTES = 5;
export const NO_COMPRESSION = 0;
export const SNAPPY_COMPRESSION = 1;

export function hasTableMagic(lastBytes: Uint8Array): boolean {
  if (lastBytes.length < TABLE_MAGIC.length) return false;
  const tail = lastBytes.subarray(lastBytes.length - TABLE_MAGIC.length);
  return TABLE_MAGIC.every((byte, i) => tail[i] === byte);
}
