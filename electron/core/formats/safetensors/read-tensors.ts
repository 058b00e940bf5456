// Reading a checkpoint's tensors: file by file, in runs of neighbouring tensors that share one
// fresh buffer, each tensor handed out as a view of it (no copy; a fresh buffer per run is what
// lets the caller keep a tensor after the next one arrives). A run is read in large chunks with
// the next chunk's read in flight while this one's CRC is computed, so checksumming costs no
// time on top of the read: this keeps pace with a plain fs.readFile of the same bytes.
import path from 'node:path';
import { crc32c } from '../../base/crc32c.js';
import { CheckpointFormatError } from '../../base/errors.js';
import { type OpenedFile, openFile } from '../../storage/file-access.js';
import type { RandomAccessFile } from '../../storage/storage.js';
import type { ForeignCheckpoint, ForeignTensor, ForeignTensorData } from '../foreign.js';
import { asFormatError } from './fs-problem.js';

/** Neighbouring tensors share a buffer up to this size; a larger tensor has its own. */
const RUN_BYTES = 16 * 1024 * 1024;
/** Unwanted bytes between two wanted tensors that are cheaper to read through than to seek over. */
const MAX_GAP = 256 * 1024;
/** One read() call; large enough that system calls cost nothing, small enough to overlap with CRC. */
const CHUNK_BYTES = 8 * 1024 * 1024;

export interface ReadOptions {
  readonly names?: ReadonlySet<string>;
  readonly signal?: AbortSignal;
}

interface Run {
  readonly tensors: ForeignTensor[];
  readonly start: number;
  end: number;
  buffer?: Buffer;
}

interface Chunk {
  readonly run: Run;
  readonly from: number;
  readonly to: number;
}

/** The wanted tensors grouped by file (in the checkpoint's file order), each group by offset. */
function byFile(checkpoint: ForeignCheckpoint, names: ReadonlySet<string> | undefined): Map<string, ForeignTensor[]> {
  const order = new Map(checkpoint.files.map((file, index) => [file.name, index]));
  const wanted = checkpoint.tensors.filter((t) => names === undefined || names.has(t.name));
  wanted.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.offset - b.offset);
  const groups = new Map<string, ForeignTensor[]>();
  for (const tensor of wanted) {
    const group = groups.get(tensor.file);
    if (group === undefined) groups.set(tensor.file, [tensor]);
    else group.push(tensor);
  }
  return groups;
}

function runsOf(tensors: readonly ForeignTensor[]): Run[] {
  const runs: Run[] = [];
  let current: Run | undefined;
  for (const tensor of tensors) {
    const end = tensor.offset + tensor.bytes;
    if (current !== undefined && tensor.offset >= current.end && tensor.offset - current.end <= MAX_GAP && end - current.start <= RUN_BYTES) {
      current.tensors.push(tensor);
      current.end = end;
    } else {
      current = { tensors: [tensor], start: tensor.offset, end };
      runs.push(current);
    }
  }
  return runs;
}

function chunksOf(runs: readonly Run[]): Chunk[] {
  const chunks: Chunk[] = [];
  for (const run of runs) {
    let from = run.start;
    do {
      const to = Math.min(run.end, from + CHUNK_BYTES);
      chunks.push({ run, from, to });
      from = to;
    } while (from < run.end);
  }
  return chunks;
}

async function readChunk(handle: RandomAccessFile, file: string, chunk: Chunk): Promise<void> {
  const { run } = chunk;
  run.buffer ??= Buffer.allocUnsafe(run.end - run.start);
  let done = chunk.from;
  while (done < chunk.to) {
    const { bytesRead } = await handle.read(run.buffer, done - run.start, chunk.to - done, done);
    if (bytesRead === 0) throw new CheckpointFormatError(file, `ends at byte ${done}, inside the tensor data it held when it was opened`, done);
    done += bytesRead;
  }
}

/** A read started now and awaited later: its failure is held, never left unhandled meanwhile. */
function start(handle: RandomAccessFile, file: string, chunk: Chunk | undefined): Promise<{ error: unknown } | null> | null {
  if (chunk === undefined) return null;
  return readChunk(handle, file, chunk).then(
    () => null,
    (error: unknown) => ({ error }),
  );
}

/** One file's tensors (of one file, by offset), from a file or an S3 object opened for reads at any offset. */
export async function* readFileTensors(
  handle: RandomAccessFile,
  file: string,
  tensors: readonly ForeignTensor[],
  signal: AbortSignal | undefined,
): AsyncGenerator<ForeignTensorData> {
  const chunks = chunksOf(runsOf(tensors));
  let pending = start(handle, file, chunks[0]);
  let next = 0; // index in the current run's tensors of the first not yet yielded
  let crc = 0; // of that tensor's bytes so far
  try {
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] as Chunk;
      const failed = await pending;
      if (failed !== null) throw asFormatError(file, failed.error);
      signal?.throwIfAborted();
      pending = start(handle, file, chunks[i + 1]);
      const { run } = chunk;
      const buffer = run.buffer as Buffer;
      if (chunk.from === run.start) next = 0;
      for (; next < run.tensors.length; next++) {
        const tensor = run.tensors[next] as ForeignTensor;
        const end = tensor.offset + tensor.bytes;
        const from = Math.max(tensor.offset, chunk.from);
        const to = Math.min(end, chunk.to);
        if (from < to) crc = crc32c(buffer.subarray(from - run.start, to - run.start), crc);
        if (end > chunk.to) break;
        yield { tensor, data: buffer.subarray(tensor.offset - run.start, end - run.start), storedCrc32c: crc };
        crc = 0;
      }
      // Every tensor of the run is handed out: the caller's views alone keep its buffer now, so a
      // caller that lets each tensor go holds one run at a time, not the whole file.
      if (chunk.to === run.end) delete run.buffer;
    }
  } finally {
    // The caller may stop early: the read still in flight must end before the file is closed.
    await pending;
  }
}

export async function* readTensors(checkpoint: ForeignCheckpoint, options: ReadOptions = {}): AsyncGenerator<ForeignTensorData> {
  const sizes = new Map(checkpoint.files.map((file) => [file.name, file.bytes]));
  for (const [name, tensors] of byFile(checkpoint, options.names)) {
    options.signal?.throwIfAborted();
    const file = path.join(checkpoint.dir, ...name.split('/'));
    let opened: OpenedFile;
    try {
      opened = await openFile(file, { sequential: true });
    } catch (error) {
      throw asFormatError(file, error);
    }
    const { file: handle, size } = opened;
    try {
      const expected = sizes.get(name);
      if (expected !== undefined && size !== expected) {
        throw new CheckpointFormatError(file, `is ${size} bytes now, but was ${expected} bytes when it was opened: it changed since`);
      }
      yield* readFileTensors(handle, file, tensors, options.signal);
    } finally {
      await handle.close();
    }
  }
}
