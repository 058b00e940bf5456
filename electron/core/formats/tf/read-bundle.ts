// Reads a bundle's tensors in file order, each shard front to back in large sequential reads, and
// checks every tensor against the CRC-32C its index entry stores. Neighbouring tensors share one
// read (and one buffer, handed out as views), so a bundle of many small tensors costs a few large
// reads, and a large tensor is read straight into its own buffer.
import { constants } from 'node:buffer';
import path from 'node:path';
import { crc32c } from '../../base/crc32c.js';
import { quoted } from '../../base/describe-value.js';
import { CheckpointFormatError, DamagedTensorError } from '../../base/errors.js';
import { isMissing } from '../../base/regular-file.js';
import { openFile } from '../../storage/file-access.js';
import type { ForeignCheckpoint, ForeignTensor, ForeignTensorData } from '../foreign.js';
import { stringTensorChecksum } from './string-tensor.js';

/**
 * Tensors are grouped into reads of up to this size; a larger tensor is one read of its own. Measured
 * here on a 100 MB bundle: 4 MiB reads ran several times faster than 16 or 64 MiB ones (fresh large
 * buffers cost page faults; buffers of this size are recycled by the allocator).
 */
const READ_GROUP_BYTES = 4 * 1024 * 1024;
/** Unrequested bytes between two requested tensors smaller than this are read through rather than seeked over. */
const MAX_GAP_BYTES = 1024 * 1024;
const MAX_LENGTH = constants.MAX_LENGTH;

interface ReadGroup {
  readonly start: number;
  readonly end: number;
  readonly tensors: readonly ForeignTensor[];
}

function groupReads(tensors: readonly ForeignTensor[]): ReadGroup[] {
  const groups: ReadGroup[] = [];
  let current: { start: number; end: number; tensors: ForeignTensor[] } | null = null;
  for (const t of tensors) {
    const end = t.offset + t.bytes;
    if (current !== null && t.offset >= current.end && t.offset - current.end <= MAX_GAP_BYTES && end - current.start <= READ_GROUP_BYTES) {
      current.end = end;
      current.tensors.push(t);
      continue;
    }
    if (current !== null) groups.push(current);
    current = { start: t.offset, end, tensors: [t] };
  }
  if (current !== null) groups.push(current);
  return groups;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

export async function* readBundle(
  checkpoint: ForeignCheckpoint,
  options: { readonly names?: ReadonlySet<string>; readonly signal?: AbortSignal } = {},
): AsyncGenerator<ForeignTensorData> {
  const wanted = checkpoint.tensors.filter((t) => options.names === undefined || options.names.has(t.name));
  const byFile = new Map<string, ForeignTensor[]>();
  for (const t of wanted) byFile.set(t.file, [...(byFile.get(t.file) ?? []), t]);
  const files = [...byFile.keys()].sort();
  for (const name of files) {
    options.signal?.throwIfAborted();
    const file = path.join(checkpoint.dir, name);
    const tensors = (byFile.get(name) ?? []).sort((a, b) => a.offset - b.offset);
    const { file: handle, size } = await openFile(file, { sequential: true }).catch((error: unknown) => {
      throw isMissing(error) ? new CheckpointFormatError(file, `is missing; it holds ${tensors.length} of the tensors of ${checkpoint.name}`) : error;
    });
    const groups = groupReads(tensors);
    const readGroup = async (group: ReadGroup): Promise<Buffer> => {
      if (group.end - group.start > MAX_LENGTH) {
        throw new CheckpointFormatError(
          file,
          `tensor ${quoted(group.tensors[0]?.name ?? '')} is ${group.end - group.start} bytes, more than one buffer of this Node can hold (${MAX_LENGTH})`,
          group.start,
        );
      }
      if (group.end > size) {
        const first = group.tensors.find((t) => t.offset + t.bytes > size) ?? group.tensors[0];
        throw new DamagedTensorError(file, first?.name ?? '?', `its bytes end at ${(first?.offset ?? 0) + (first?.bytes ?? 0)}, past the file's ${size} bytes`);
      }
      const buffer = Buffer.allocUnsafe(group.end - group.start);
      let done = 0;
      while (done < buffer.length) {
        const { bytesRead } = await handle.read(buffer, done, buffer.length - done, group.start + done);
        if (bytesRead === 0) {
          const short = group.tensors.find((t) => t.offset + t.bytes > group.start + done) ?? group.tensors[0];
          throw new DamagedTensorError(file, short?.name ?? '?', `the file ends at byte ${group.start + done}, before this tensor's last byte`);
        }
        done += bytesRead;
      }
      return buffer;
    };
    // The next group is read while this one is checked and handed out, so the disk and the
    // checksum work at the same time.
    let next: Promise<Buffer> | null = null;
    try {
      for (const [i, group] of groups.entries()) {
        options.signal?.throwIfAborted();
        const buffer = await (next ?? readGroup(group));
        const following = groups[i + 1];
        next = following === undefined ? null : readGroup(following);
        // An unread prefetch that fails is reported when it is awaited, not as an unhandled rejection.
        next?.catch(() => undefined);
        for (const t of group.tensors) {
          const data = buffer.subarray(t.offset - group.start, t.offset - group.start + t.bytes);
          yield { tensor: t, data, storedCrc32c: verify(t, data, file) };
        }
      }
    } finally {
      await next?.catch(() => undefined);
      await handle.close();
    }
  }
}

/** Checks the tensor against its entry's checksum; returns the CRC-32C of the bytes as stored. */
function verify(t: ForeignTensor, data: Uint8Array, file: string): number {
  const crc = crc32c(data);
  if (t.storedCrc32c === undefined) return crc;
  // A string tensor's entry CRC is taken over fixed-width lengths, not the stored varints.
  const expected = t.dtype === 'STRING' ? (data.length === 0 ? 0 : stringTensorChecksum(data, elementCount(t.shape), file, t.name)) : crc;
  if (expected !== t.storedCrc32c) {
    throw new DamagedTensorError(file, t.name, `CRC-32C of its ${t.bytes} bytes at ${t.offset} is ${hex(expected)}, the index says ${hex(t.storedCrc32c)}`);
  }
  return crc;
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
