// The one way user data is written into a workspace: a temporary name, fsync, rename, then
// fsync of the directory, so that a crash leaves either the old state or the new one.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { TMP_PREFIX } from './layout.js';

export function temporaryName(label: string): string {
  return `${TMP_PREFIX}${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export async function fsyncPath(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes buffers to a new file with one writev per batch and fsyncs it: no copy of the data. */
export async function writeFileDurably(file: string, chunks: readonly Uint8Array[], flag = 'wx'): Promise<number> {
  const handle = await open(file, flag, 0o644);
  let written = 0;
  try {
    // writev takes at most IOV_MAX (1024 on Linux) buffers per call.
    for (let i = 0; i < chunks.length; i += 1024) {
      const batch = chunks.slice(i, i + 1024);
      const expected = batch.reduce((sum, c) => sum + c.byteLength, 0);
      let done = 0;
      while (done < expected) {
        const { bytesWritten } = await handle.writev(remaining(batch, done));
        if (bytesWritten === 0) throw new Error(`${file}: write made no progress`);
        done += bytesWritten;
      }
      written += expected;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return written;
}

function remaining(chunks: readonly Uint8Array[], skip: number): Uint8Array[] {
  if (skip === 0) return chunks as Uint8Array[];
  const rest: Uint8Array[] = [];
  let left = skip;
  for (const chunk of chunks) {
    if (left >= chunk.byteLength) {
      left -= chunk.byteLength;
      continue;
    }
    rest.push(left > 0 ? chunk.subarray(left) : chunk);
    left = 0;
  }
  return rest;
}

/** Replaces `file` atomically with `content`. */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, temporaryName(path.basename(file)));
  try {
    await writeFileDurably(tmp, [typeof content === 'string' ? Buffer.from(content, 'utf8') : content]);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  await fsyncPath(dir);
}

/** Appends one line and fsyncs; a torn last line is tolerated by the reader. */
export async function appendLineDurably(file: string, line: string): Promise<void> {
  const handle = await open(file, 'a', 0o644);
  try {
    await handle.write(line.endsWith('\n') ? line : `${line}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
