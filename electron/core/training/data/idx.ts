// The IDX container (Y. LeCun, "THE MNIST DATABASE", yann.lecun.com/exdb/mnist):
//   bytes 0..2     zero
//   byte  2        element type: 0x08 unsigned byte (the only one MNIST and Fashion-MNIST use)
//   byte  3        number of dimensions, d
//   bytes 4..4+4d  each dimension, u32 big-endian
//   then           the elements, row-major, nothing after them
// Datasets are often shipped gzipped; we look at the bytes rather than the extension, since
// a renamed or half-downloaded file must be judged by what it holds.
import { openRegular } from '../../base/regular-file.js';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, constants as zlibConstants } from 'node:zlib';
import { crc32c, formatCrc } from '../../base/crc32c.js';

const gunzipAsync = promisify(gunzip);

export const IDX_UNSIGNED_BYTE = 0x08;
const MAGIC_BYTES = 4;
const DIMENSION_BYTES = 4;
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Anything wrong with an IDX file: names the file, the byte and what was expected vs found. */
export class IdxFormatError extends Error {
  override readonly name = 'IdxFormatError';
  readonly code = 'damaged';
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly byteOffset?: number,
    /** Offsets then count bytes of the decompressed data, not of the file. */
    readonly gunzipped = false,
  ) {
    const where = byteOffset === undefined ? (gunzipped ? ' (gunzipped)' : '') : ` (byte ${byteOffset}${gunzipped ? ' of the gunzipped data' : ''})`;
    super(`${file}${where}: ${problem}`);
  }
}

export interface IdxArray {
  readonly file: string;
  readonly dims: readonly number[];
  /** A view of the elements (no header), one byte per element. */
  readonly data: Uint8Array;
  /** Byte offset of the first element, for errors about a particular element. */
  readonly dataOffset: number;
  readonly gunzipped: boolean;
  /** CRC-32C of the file's bytes as stored: what a run records to know its data again. */
  readonly crc32c: string;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const hex = (value: number, digits: number): string => `0x${value.toString(16).padStart(digits, '0')}`;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** The element types IDX defines (its third byte): a file of another type is an IDX file, but not ours. */
const IDX_TYPES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short, 2 bytes',
  0x0c: 'int, 4 bytes',
  0x0d: 'float, 4 bytes',
  0x0e: 'double, 8 bytes',
};

/**
 * What is wrong with the magic number at the start of `bytes` (at least 4), and at which byte, or
 * null. Until its first three bytes are an IDX magic, the file may be anything: nothing read from
 * it is said.
 */
function magicProblem(bytes: Uint8Array, expectedRank: number): { problem: string; byteOffset: number } | null {
  const expectedMagic = (IDX_UNSIGNED_BYTE << 8) | expectedRank;
  const expected = `expected magic number ${hex(expectedMagic, 8)} (unsigned-byte IDX with ${expectedRank} dimension${expectedRank === 1 ? '' : 's'})`;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hint = isGzip(bytes) ? ' (the data is itself gzip-compressed)' : '';
    return { problem: `${expected}, but the first two bytes are not zero: not an IDX file${hint}`, byteOffset: 0 };
  }
  const type = bytes[2] as number;
  const typeName = IDX_TYPES[type];
  if (typeName === undefined) return { problem: `${expected}, but the type code (byte 2) is not one IDX defines: not an IDX file`, byteOffset: 2 };
  if (type !== IDX_UNSIGNED_BYTE) {
    return { problem: `${expected}, found type code ${hex(type, 2)} (${typeName}) where ${hex(IDX_UNSIGNED_BYTE, 2)} (unsigned byte) belongs`, byteOffset: 2 };
  }
  const rank = bytes[3] as number;
  if (rank !== expectedRank)
    return { problem: `${expected}, found ${hex((type << 8) | rank, 8)}: ${rank} dimensions where ${expectedRank} belong`, byteOffset: 3 };
  return null;
}

/** Parses an unsigned-byte IDX array of the given rank; `file` and `gunzipped` label errors. */
export function parseIdx(bytes: Uint8Array, file: string, expectedRank: number, gunzipped = false): Omit<IdxArray, 'crc32c'> {
  const fail = (problem: string, byteOffset: number): IdxFormatError => new IdxFormatError(file, problem, byteOffset, gunzipped);
  if (bytes.length < MAGIC_BYTES) {
    throw fail(`expected at least ${MAGIC_BYTES} bytes for the magic number of an IDX file, found ${bytes.length}`, 0);
  }
  const magic = magicProblem(bytes, expectedRank);
  if (magic !== null) throw fail(magic.problem, magic.byteOffset);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rank = expectedRank;
  const headerBytes = MAGIC_BYTES + DIMENSION_BYTES * rank;
  if (bytes.length < headerBytes) {
    throw fail(`expected a ${headerBytes}-byte header (${rank} dimension sizes), but the file ends after ${bytes.length} bytes`, bytes.length);
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(MAGIC_BYTES + DIMENSION_BYTES * i));
  const elements = dims.reduce((product, size) => product * size, 1);
  const expectedLength = headerBytes + elements;
  if (bytes.length !== expectedLength) {
    const what =
      bytes.length < expectedLength
        ? `truncated: ${expectedLength - bytes.length} bytes missing`
        : `${bytes.length - expectedLength} unexpected trailing bytes`;
    const elementsDescription = `${headerBytes}-byte header + ${dims.join('×')} elements`;
    throw fail(`expected ${expectedLength} bytes (${elementsDescription}), found ${bytes.length}: ${what}`, Math.min(bytes.length, expectedLength));
  }
  return { file, dims, data: bytes.subarray(headerBytes), dataOffset: headerBytes, gunzipped };
}

/** Reads an IDX file, gunzipping it first when its bytes are gzip. */
export async function readIdxFile(file: string, expectedRank: number): Promise<IdxArray> {
  let raw: Buffer;
  try {
    // A named pipe in place of a data file would block a plain read forever.
    const { handle } = await openRegular(file);
    try {
      raw = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new IdxFormatError(file, `cannot be read: ${errorText(error)}`);
  }
  const crc = formatCrc(crc32c(raw));
  if (!isGzip(raw)) return { ...parseIdx(raw, file, expectedRank), crc32c: crc };
  let unpacked: Buffer;
  try {
    unpacked = await gunzipAsync(raw);
  } catch (error) {
    throw new IdxFormatError(file, `gzip data cannot be decompressed: ${errorText(error)}`);
  }
  return { ...parseIdx(unpacked, file, expectedRank, true), crc32c: crc };
}

/** Bytes enough for any IDX header we read (magic and up to three dimensions). */
const HEADER_PEEK = 16;

/**
 * The dimensions of an IDX file from its first bytes only (gunzipping just the start of a
 * gzipped one): what a request is checked against before anything is loaded.
 */
export async function readIdxDimensions(file: string, expectedRank: number): Promise<readonly number[]> {
  let start: Buffer;
  try {
    const { handle } = await openRegular(file);
    try {
      const head = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      start = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new IdxFormatError(file, `cannot be read: ${errorText(error)}`);
  }
  let header = start;
  if (isGzip(start)) {
    try {
      header = gunzipSync(start, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (error) {
      throw new IdxFormatError(file, `gzip data cannot be decompressed: ${errorText(error)}`);
    }
  }
  const length = MAGIC_BYTES + expectedRank * DIMENSION_BYTES;
  if (header.length < Math.min(length, HEADER_PEEK)) throw new IdxFormatError(file, `only ${header.length} bytes, shorter than an IDX header`, 0);
  const magic = magicProblem(header, expectedRank);
  if (magic !== null) throw new IdxFormatError(file, magic.problem, magic.byteOffset, isGzip(start));
  return Array.from({ length: expectedRank }, (_, i) => header.readUInt32BE(MAGIC_BYTES + i * DIMENSION_BYTES));
}
