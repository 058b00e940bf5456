// The few whole-file and byte-range reads that opening a bundle needs, all through openRegular so
// that a pipe or a device in a checkpoint folder is refused rather than blocking the reader.
import { stat } from 'node:fs/promises';
import { CheckpointFormatError } from '../../base/errors.js';
import { isMissing, openRegular } from '../../base/regular-file.js';

export async function readWholeFile(file: string, maxBytes: number): Promise<Uint8Array> {
  const { handle, stats } = await openRegular(file);
  try {
    if (stats.size > maxBytes) throw new CheckpointFormatError(file, `is ${stats.size} bytes, more than the ${maxBytes} such a file can be`);
    const bytes = Buffer.allocUnsafe(stats.size);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await handle.read(bytes, done, bytes.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return bytes.subarray(0, done);
  } finally {
    await handle.close();
  }
}

export async function readRange(file: string, offset: number, length: number): Promise<Uint8Array> {
  const { handle } = await openRegular(file);
  try {
    const bytes = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
      if (bytesRead === 0) throw new CheckpointFormatError(file, `ends at byte ${offset + done}, before byte ${offset + length}`, offset + done);
      done += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

export async function fileSize(file: string): Promise<number | null> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new CheckpointFormatError(file, 'is not a regular file');
    return info.size;
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}
