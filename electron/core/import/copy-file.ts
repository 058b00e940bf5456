// Copies one file of an import's source into its staging folder: read in chunks (so a cancel is
// heard within one chunk and progress moves), written to a new file, fsynced.
import { open } from 'node:fs/promises';
import { openSourceFile } from './source-folder.js';

const CHUNK = 8 << 20;

export async function copyDurably(from: string, to: string, signal: AbortSignal, onBytes: (bytes: number) => void): Promise<number> {
  const source = await openSourceFile(from);
  try {
    const target = await open(to, 'wx', 0o644);
    try {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(source.size, 1)));
      let total = 0;
      for (;;) {
        if (signal.aborted) throw new Error('cancelled');
        const { bytesRead } = await source.handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        let written = 0;
        while (written < bytesRead) written += (await target.write(buffer, written, bytesRead - written)).bytesWritten;
        total += bytesRead;
        onBytes(bytesRead);
      }
      await target.sync();
      return total;
    } finally {
      await target.close();
    }
  } finally {
    await source.handle.close();
  }
}
