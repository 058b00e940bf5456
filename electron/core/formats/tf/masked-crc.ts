// TensorFlow and LevelDB store CRC-32C values "masked" (tsl/lib/hash/crc32c.h): a CRC computed over
// bytes that themselves hold CRCs is weak, so the stored value is rotated and offset.
const MASK_DELTA = 0xa282ead8;

export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}
