// The few whole-file and byte-range reads that opening a bundle needs, through the one file access
// of the readers (storage/file-access.ts): on disk through openRegular, so that a pipe or a device
// in a checkpoint folder is refused rather than blocking the reader; in an open S3 workspace by
// ranged GETs.
import { CheckpointFormatError } from '../../base/errors.js';
import { openFile, readWhole, statFile } from '../../storage/file-access.js';

export async function readWholeFile(file: string, maxBytes: number): Promise<Uint8Array> {
  return readWhole(file, maxBytes);
}

export async function readRange(file: string, offset: number, length: number): Promise<Uint8Array> {
  const { file: handle } = await openFile(file);
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
  const info = await statFile(file);
  if (info === null) return null;
  if (info.kind !== 'file') throw new CheckpointFormatError(file, 'is not a regular file');
  return info.bytes;
}
