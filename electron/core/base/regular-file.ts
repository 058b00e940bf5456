// Reads that never block. A named pipe, a socket or a device in place of a manifest, a tensor
// file or a lock would hang a plain open() or read() forever (a FIFO's open waits for a writer),
// so every file a workspace holds is opened non-blocking and accepted only if it is a regular file.
import { type Stats, closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { crc32c } from './crc32c.js';
import { CheckpointFormatError } from './errors.js';

// O_NONBLOCK makes opening a FIFO return at once; O_NOCTTY keeps a terminal device from becoming
// ours. Neither exists on Windows, where opening a pipe by path does not block in the same way.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

export function describeFileKind(info: Stats): string {
  if (info.isFile()) return 'a regular file';
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function notRegular(file: string, info: Stats): CheckpointFormatError {
  return new CheckpointFormatError(file, `is ${describeFileKind(info)}, not a regular file`);
}

function tooLarge(file: string, size: number, maxBytes: number): CheckpointFormatError {
  return new CheckpointFormatError(file, `is ${size} bytes, more than the ${maxBytes} such a file can hold`);
}

/** Opens `file` for reading if it is a regular file; returns the descriptor and its stats. */
export function openRegularSync(file: string): { fd: number; stats: Stats } {
  const fd = openSync(file, READ_FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(file, stats);
    return { fd, stats };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

export async function openRegular(file: string): Promise<{ handle: FileHandle; stats: Stats }> {
  const handle = await open(file, READ_FLAGS);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegular(file, stats);
    return { handle, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Small-file reads share one buffer: the catalog reads thousands of manifests in a row. */
const SMALL_READ = 64 * 1024;
const smallBuffer = Buffer.allocUnsafe(SMALL_READ);

/** A whole small file (a manifest, run.json, a lock, …) as text; refuses anything but a regular file. */
export function readRegularTextSync(file: string, maxBytes = DEFAULT_MAX_TEXT_BYTES): string {
  return readRegularTextWithStatsSync(file, maxBytes).text;
}

/** The same, with the file's stats (size and mtime identify a version of it without another call). */
export function readRegularTextWithStatsSync(file: string, maxBytes = DEFAULT_MAX_TEXT_BYTES): { text: string; stats: Stats } {
  const { fd, stats } = openRegularSync(file);
  try {
    if (stats.size > maxBytes) throw tooLarge(file, stats.size, maxBytes);
    const first = readSync(fd, smallBuffer, 0, SMALL_READ, 0);
    // The common case: the whole file in one read, decoded straight from the shared buffer.
    if (first < SMALL_READ) return { text: smallBuffer.toString('utf8', 0, first), stats };
    const whole = Buffer.allocUnsafe(stats.size);
    let done = 0;
    while (done < whole.length) {
      const read = readSync(fd, whole, done, whole.length - done, done);
      if (read === 0) break;
      done += read;
    }
    return { text: whole.toString('utf8', 0, done), stats };
  } finally {
    closeSync(fd);
  }
}

export async function readRegularText(file: string, maxBytes = DEFAULT_MAX_TEXT_BYTES): Promise<string> {
  const { handle, stats } = await openRegular(file);
  try {
    if (stats.size > maxBytes) throw tooLarge(file, stats.size, maxBytes);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * A small file's text and the CRC-32C of its bytes, in three syscalls (open, read, close): the
 * catalog reads thousands of manifests in a row. The file's kind is looked at (fstat) only when
 * the first read says something is unusual — nothing, or more than one read's worth, or an
 * error — which is where a pipe, a device or a folder shows itself.
 */
export function readSmallTextSync(file: string, maxBytes = DEFAULT_MAX_TEXT_BYTES): { text: string; bytes: number; crc: number } {
  const fd = openSync(file, READ_FLAGS);
  try {
    let first: number;
    try {
      first = readSync(fd, smallBuffer, 0, SMALL_READ, 0);
    } catch (error) {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw notRegular(file, stats);
      throw error;
    }
    if (first > 0 && first < SMALL_READ) {
      const bytes = smallBuffer.subarray(0, first);
      return { text: bytes.toString('utf8'), bytes: first, crc: crc32c(bytes) };
    }
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(file, stats);
    if (stats.size > maxBytes) throw tooLarge(file, stats.size, maxBytes);
    const whole = Buffer.allocUnsafe(stats.size);
    let done = 0;
    while (done < whole.length) {
      const read = readSync(fd, whole, done, whole.length - done, done);
      if (read === 0) break;
      done += read;
    }
    const bytes = whole.subarray(0, done);
    return { text: bytes.toString('utf8'), bytes: done, crc: crc32c(bytes) };
  } finally {
    closeSync(fd);
  }
}

/** A JSON file of ours is never near this; a larger one is damage, not something to allocate for. */
export const DEFAULT_MAX_TEXT_BYTES = 256 * 1024 * 1024;

/** True when `error` says the file is not there (as opposed to being unreadable or odd). */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT';
}
