// The safetensors container (huggingface/safetensors README.md and safetensors/src/tensor.rs):
//   bytes 0..8      N, u64 little-endian: the header's length
//   bytes 8..8+N    UTF-8 JSON header, starting with '{', optionally right-padded with spaces
//   bytes 8+N..     tensor data; each tensor's `data_offsets` are relative to byte 8+N
// We write exactly what current writers write (header padded to 8 bytes, tensors ordered by
// descending alignment then name) so every tensor starts aligned and can be viewed in place.
import { constants as bufferConstants } from 'node:buffer';
import type { RandomAccessFile } from '../storage/storage.js';
import { CheckpointFormatError } from '../base/errors.js';
import { type Dtype, dtypeAlignment, isDtype, tensorByteLength } from '../base/dtypes.js';
import { openRegular } from '../base/regular-file.js';
import { describeJson, quoted, quotedValue, shown } from '../base/describe-value.js';
import { findJsonSyntaxError } from '../base/parse-json.js';

/** tensor.rs MAX_HEADER_SIZE: larger headers are refused before anything is allocated. */
export const MAX_HEADER_SIZE = 100_000_000;
const HEADER_LENGTH_BYTES = 8;
const HEADER_ALIGNMENT = 8;
const METADATA_KEY = '__metadata__';

export interface Tensor {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** Raw little-endian row-major bytes. */
  readonly data: Uint8Array;
}

export interface TensorLocation {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** Absolute byte range inside the file. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly headerLength: number;
  readonly dataStart: number;
  readonly tensors: readonly TensorLocation[];
  readonly metadata: Readonly<Record<string, string>>;
}

export interface EncodedSafetensors {
  /** The 8 length bytes plus the padded JSON header. */
  readonly header: Buffer;
  /** Tensor payloads in file order, to be written right after the header without copying. */
  readonly payloads: readonly Uint8Array[];
  readonly ordered: readonly Tensor[];
  readonly totalBytes: number;
}

export function encodeSafetensors(file: string, tensors: readonly Tensor[], metadata: Readonly<Record<string, string>> = {}): EncodedSafetensors {
  const seen = new Set<string>();
  for (const tensor of tensors) {
    if (tensor.name === METADATA_KEY) throw new CheckpointFormatError(file, `"${METADATA_KEY}" cannot be a tensor name`);
    if (seen.has(tensor.name)) throw new CheckpointFormatError(file, `tensor ${quoted(tensor.name)} appears twice`);
    seen.add(tensor.name);
    const expected = tensorByteLength(tensor.dtype, tensor.shape);
    if (expected === null || expected !== tensor.data.byteLength) {
      throw new CheckpointFormatError(
        file,
        `tensor ${quoted(tensor.name)} (${tensor.dtype} [${tensor.shape.join(', ')}]) needs ${expected ?? 'a whole number of'} bytes, got ${tensor.data.byteLength}`,
      );
    }
  }
  const ordered = [...tensors].sort((a, b) => dtypeAlignment(b.dtype) - dtypeAlignment(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const json: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) json[METADATA_KEY] = metadata;
  let offset = 0;
  for (const tensor of ordered) {
    json[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  const text = Buffer.from(JSON.stringify(json), 'utf8');
  const padded = Math.ceil(text.length / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  const header = Buffer.alloc(HEADER_LENGTH_BYTES + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  text.copy(header, HEADER_LENGTH_BYTES);
  return { header, payloads: ordered.map((t) => t.data), ordered, totalBytes: header.length + offset };
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** What an unrecognised file is refused with: it may be anything, so nothing read from it is said. */
function notSafetensors(file: string, problem: string, byteOffset: number): CheckpointFormatError {
  return new CheckpointFormatError(file, `not a safetensors file: ${problem}`, byteOffset);
}

/**
 * The header's JSON object, from a file not yet known to be safetensors: until the header parses,
 * no number or text read from it is said (the first 8 bytes of a password file would read as a
 * header length).
 */
function headerObject(file: string, fileSize: number, start: Uint8Array): { json: Record<string, unknown>; headerLength: number } {
  if (fileSize < HEADER_LENGTH_BYTES || start.byteLength < HEADER_LENGTH_BYTES) {
    throw notSafetensors(file, `it is ${fileSize} bytes, shorter than the 8-byte header length that starts one`, 0);
  }
  const declared = new DataView(start.buffer, start.byteOffset, start.byteLength).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_SIZE)) {
    throw notSafetensors(file, `the 8-byte header length at its start exceeds the limit of ${MAX_HEADER_SIZE} bytes`, 0);
  }
  const headerLength = Number(declared);
  if (HEADER_LENGTH_BYTES + headerLength > fileSize) {
    throw notSafetensors(file, `the 8-byte header length at its start points past the end of the file (${fileSize} bytes)`, 0);
  }
  if (start.byteLength < HEADER_LENGTH_BYTES + headerLength) {
    throw new CheckpointFormatError(file, `only ${start.byteLength} of the header's bytes were given`, 0);
  }
  const headerBytes = start.subarray(HEADER_LENGTH_BYTES, HEADER_LENGTH_BYTES + headerLength);
  if (headerBytes[0] !== 0x7b) throw notSafetensors(file, 'the header does not start with "{"', HEADER_LENGTH_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw notSafetensors(file, 'the header is not UTF-8 text', HEADER_LENGTH_BYTES);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const error = findJsonSyntaxError(text);
    const at = error === null ? 0 : Buffer.byteLength(text.slice(0, error.offset));
    throw notSafetensors(file, `the header is not valid JSON${error === null ? '' : `: ${error.what}`}`, HEADER_LENGTH_BYTES + at);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw notSafetensors(file, 'the header is not a JSON object', HEADER_LENGTH_BYTES);
  return { json: json as Record<string, unknown>, headerLength };
}

/**
 * Validates a header the way tensor.rs `validate()` does: no gaps or overlaps, sizes matching
 * dtype × shape, and the data section ending exactly at the end of the file.
 */
export function parseSafetensorsHeader(file: string, fileSize: number, start: Uint8Array): SafetensorsHeader {
  const { json, headerLength } = headerObject(file, fileSize, start);
  const dataStart = HEADER_LENGTH_BYTES + headerLength;
  let metadata: Record<string, string> = {};
  const tensors: TensorLocation[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(file, entry);
      continue;
    }
    tensors.push(parseEntry(file, name, entry, dataStart));
  }
  const byOffset = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = dataStart;
  for (const tensor of byOffset) {
    if (tensor.begin !== expectedBegin) {
      throw new CheckpointFormatError(
        file,
        `tensor ${quoted(tensor.name)} starts at data offset ${tensor.begin - dataStart}, expected ${expectedBegin - dataStart} (gap or overlap)`,
        tensor.begin,
      );
    }
    expectedBegin = tensor.end;
  }
  if (expectedBegin !== fileSize) {
    throw new CheckpointFormatError(
      file,
      `tensor data ends at byte ${expectedBegin} but the file has ${fileSize} bytes (${expectedBegin < fileSize ? 'trailing bytes' : 'truncated'})`,
      Math.min(expectedBegin, fileSize),
    );
  }
  return { headerLength, dataStart, tensors, metadata };
}

function parseMetadata(file: string, entry: unknown): Record<string, string> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new CheckpointFormatError(file, `"${METADATA_KEY}" must be an object of strings, not ${describeJson(entry)}`);
  }
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') throw new CheckpointFormatError(file, `"${METADATA_KEY}.${shown(key)}" is not a string`);
    metadata[key] = value;
  }
  return metadata;
}

const isNonNegativeIntegers = (value: unknown): value is number[] => Array.isArray(value) && value.every(isNonNegativeInteger);
/** A list of numbers as written (the header is known to be one by now), anything else by its kind. */
const numbers = (value: unknown): string =>
  Array.isArray(value) && value.every((n) => typeof n === 'number') ? JSON.stringify(value) : `(${describeJson(value)})`;

function parseEntry(file: string, name: string, entry: unknown, dataStart: number): TensorLocation {
  const fail = (problem: string): never => {
    throw new CheckpointFormatError(file, `tensor ${quoted(name)}: ${problem}`);
  };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return fail(`entry is ${describeJson(entry)}, not an object`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string' || !isDtype(dtype)) return fail(`unknown dtype ${quotedValue(dtype)}`);
  if (!isNonNegativeIntegers(shape)) return fail(`shape ${numbers(shape)} is not a list of non-negative integers`);
  if (!isNonNegativeIntegers(offsets) || offsets.length !== 2) return fail(`data_offsets ${numbers(offsets)} is not a pair of non-negative integers`);
  const [begin, end] = offsets as [number, number];
  if (end < begin) return fail(`data_offsets [${begin}, ${end}] end before they begin`);
  const expected = tensorByteLength(dtype, shape);
  if (expected === null) return fail(`${dtype} [${shape.join(', ')}] is not a whole number of bytes`);
  if (end - begin !== expected) return fail(`${dtype} [${shape.join(', ')}] needs ${expected} bytes but data_offsets span ${end - begin}`);
  return { name, dtype, shape, begin: dataStart + begin, end: dataStart + end };
}

export interface SafetensorsFile {
  readonly header: SafetensorsHeader;
  readonly tensors: readonly Tensor[];
  /** The whole file; tensors are views into it. */
  readonly bytes: Buffer;
}

/** Reads a whole file in one allocation; tensors are zero-copy views into it. */
export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  const { handle, stats } = await openRegular(file);
  let bytes: Buffer;
  try {
    if (stats.size > bufferConstants.MAX_LENGTH) {
      throw new CheckpointFormatError(file, `is ${stats.size} bytes, more than this Node.js can read into one buffer (${bufferConstants.MAX_LENGTH})`);
    }
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  const header = parseSafetensorsHeader(file, bytes.byteLength, bytes);
  const tensors = header.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: bytes.subarray(t.begin, t.end) }));
  return { header, tensors, bytes };
}

/** Reads and validates only the header, for listing and inspecting large files. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const { handle, stats } = await openRegular(file);
  try {
    return await readSafetensorsHeaderFrom(handle, file, stats.size);
  } finally {
    await handle.close();
  }
}

/** The header of an open file of `size` bytes; allocates only once the length is known to fit. */
export async function readSafetensorsHeaderFrom(handle: RandomAccessFile, file: string, size: number): Promise<SafetensorsHeader> {
  const lengthBytes = Buffer.alloc(HEADER_LENGTH_BYTES);
  await handle.read(lengthBytes, 0, HEADER_LENGTH_BYTES, 0);
  if (size < HEADER_LENGTH_BYTES) return parseSafetensorsHeader(file, size, lengthBytes);
  const declared = lengthBytes.readBigUInt64LE(0);
  if (declared > BigInt(MAX_HEADER_SIZE) || HEADER_LENGTH_BYTES + Number(declared) > size) {
    return parseSafetensorsHeader(file, size, lengthBytes);
  }
  const start = Buffer.alloc(HEADER_LENGTH_BYTES + Number(declared));
  const { bytesRead } = await handle.read(start, 0, start.length, 0);
  if (bytesRead < start.length)
    throw new CheckpointFormatError(file, `file shrank while its header was read (${bytesRead} of ${start.length} bytes)`, bytesRead);
  return parseSafetensorsHeader(file, size, start);
}
