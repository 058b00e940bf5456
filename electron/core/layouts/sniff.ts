// The first bytes of a file, to tell its format by content (a magic number), never by name alone.
import { openFile } from '../storage/file-access.js';

export async function fileStartsWith(file: string, magic: Uint8Array, offset = 0): Promise<boolean> {
  let handle;
  try {
    ({ file: handle } = await openFile(file));
  } catch {
    return false;
  }
  try {
    const probe = Buffer.alloc(magic.length);
    const { bytesRead } = await handle.read(probe, 0, probe.length, offset);
    return bytesRead === magic.length && probe.equals(magic);
  } catch {
    return false;
  } finally {
    await handle.close();
  }
}

/** The last `length` bytes of a file of `size` bytes (an SSTable's magic is at its end). */
export async function fileEndsWith(file: string, size: number, magic: Uint8Array): Promise<boolean> {
  return size >= magic.length && fileStartsWith(file, magic, size - magic.length);
}

export const HDF5_SIGNATURE = Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a);
export const ZIP_SIGNATURE = Uint8Array.of(0x50, 0x4b, 0x03, 0x04);
