// One pair of large tensors compared a chunk at a time: ranged reads of both files, side by side,
// each chunk decoded and added to running sums (PairAccumulator), its bytes to a running CRC-32C
// checked against the recorded one at the end. Memory is two chunks, whatever the tensor's size;
// the figures are those of the whole-tensor path, element for element in the same order.
import { crc32c, formatCrc } from '../base/crc32c.js';
import { CheckpointFormatError, DamagedTensorError } from '../base/errors.js';
import { openRegular } from '../base/regular-file.js';
import { asFormatError } from '../formats/safetensors/fs-problem.js';
import type { RandomAccessFile } from '../storage/storage.js';
import type { SideTensor, TensorRange } from './compare-side.js';
import { type PairStats, PairAccumulator } from './tensor-stats.js';
import { type ComparableDtype, bytesPerElement, chunkDecoder, isComparableDtype } from './tensor-values.js';

/** Bytes read from each file at a time (rounded down to whole elements). */
export const STREAM_CHUNK_BYTES = 4 * 1024 * 1024;

interface Reading {
  readonly tensor: SideTensor;
  readonly dtype: ComparableDtype;
  readonly range: TensorRange;
  readonly handle: RandomAccessFile;
  readonly size: number;
  readonly buffer: Uint8Array;
  crc: number;
}

function dtypeOf(tensor: SideTensor, range: TensorRange, side: 'A' | 'B'): ComparableDtype {
  if (!isComparableDtype(tensor.dtype)) throw new DamagedTensorError(range.file, tensor.name, `${side}: ${tensor.dtype} cannot be compared`);
  return tensor.dtype;
}

async function open(tensor: SideTensor, range: TensorRange, dtype: ComparableDtype, elements: number, chunkElements: number): Promise<Reading> {
  const size = bytesPerElement(dtype);
  if (range.bytes !== elements * size)
    throw new DamagedTensorError(
      range.file,
      tensor.name,
      `holds ${range.bytes} bytes, but ${tensor.dtype} [${tensor.shape.join(', ')}] takes ${elements * size}`,
    );
  let opened: { readonly handle: RandomAccessFile; readonly size: number };
  try {
    opened = range.open ? await range.open() : await openRegular(range.file).then(({ handle, stats }) => ({ handle, size: stats.size }));
  } catch (error) {
    throw asFormatError(range.file, error);
  }
  if (range.fileBytes !== undefined && opened.size !== range.fileBytes) {
    await opened.handle.close();
    throw new CheckpointFormatError(range.file, `is ${opened.size} bytes now, but was ${range.fileBytes} bytes when it was opened: it changed since`);
  }
  // A fresh ArrayBuffer: its start is aligned for every dtype's typed view.
  return { tensor, dtype, range, handle: opened.handle, size, buffer: new Uint8Array(Math.max(1, chunkElements * size)), crc: 0 };
}

/** Elements [from, from + count) of the tensor, as bytes in the reading's buffer. */
async function readChunk(reading: Reading, from: number, count: number): Promise<Uint8Array> {
  const length = count * reading.size;
  const start = reading.range.offset + from * reading.size;
  let done = 0;
  try {
    while (done < length) {
      const { bytesRead } = await reading.handle.read(reading.buffer, done, length - done, start + done);
      if (bytesRead === 0)
        throw new CheckpointFormatError(reading.range.file, `ends at byte ${start + done}, inside the tensor data it held when it was opened`, start + done);
      done += bytesRead;
    }
  } catch (error) {
    throw asFormatError(reading.range.file, error);
  }
  const bytes = reading.buffer.subarray(0, length);
  reading.crc = crc32c(bytes, reading.crc);
  return bytes;
}

function checkSum(reading: Reading): void {
  const { checksum } = reading.range;
  const actual = formatCrc(reading.crc);
  if (checksum !== null && checksum.expected !== actual) throw new DamagedTensorError(reading.range.file, reading.tensor.name, checksum.mismatch(actual));
}

export async function streamPairStats(
  a: { tensor: SideTensor; range: TensorRange },
  b: { tensor: SideTensor; range: TensorRange },
  elements: number,
  options: { readonly chunkBytes?: number; readonly signal?: AbortSignal | undefined } = {},
): Promise<PairStats> {
  const dtypeA = dtypeOf(a.tensor, a.range, 'A');
  const dtypeB = dtypeOf(b.tensor, b.range, 'B');
  const widest = Math.max(bytesPerElement(dtypeA), bytesPerElement(dtypeB));
  const chunkElements = Math.max(1, Math.floor((options.chunkBytes ?? STREAM_CHUNK_BYTES) / widest));
  const readingA = await open(a.tensor, a.range, dtypeA, elements, Math.min(chunkElements, elements));
  try {
    const readingB = await open(b.tensor, b.range, dtypeB, elements, Math.min(chunkElements, elements));
    try {
      const accumulator = new PairAccumulator(Math.min(chunkElements, elements));
      for (let from = 0; from < elements; from += chunkElements) {
        options.signal?.throwIfAborted();
        const count = Math.min(chunkElements, elements - from);
        const [bytesA, bytesB] = await Promise.all([readChunk(readingA, from, count), readChunk(readingB, from, count)]);
        accumulator.add(chunkDecoder(dtypeA, bytesA).decode, chunkDecoder(dtypeB, bytesB).decode, 0, count);
      }
      checkSum(readingA);
      checkSum(readingB);
      return accumulator.result();
    } finally {
      await readingB.handle.close();
    }
  } finally {
    await readingA.handle.close();
  }
}
