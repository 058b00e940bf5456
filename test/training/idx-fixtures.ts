// Builds small IDX files so each test can break exactly one thing about them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function idxBytes(dims: readonly number[], data: Uint8Array, typeCode = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  view.setUint8(2, typeCode);
  view.setUint8(3, dims.length);
  dims.forEach((size, i) => view.setUint32(4 + 4 * i, size));
  const bytes = new Uint8Array(header.length + data.length);
  bytes.set(header);
  bytes.set(data, header.length);
  return bytes;
}

export function imagesIdx(count: number, rows = 28, columns = 28): Uint8Array {
  const pixels = new Uint8Array(count * rows * columns).map((_, i) => i % 256);
  return idxBytes([count, rows, columns], pixels);
}

export function labelsIdx(labels: readonly number[]): Uint8Array {
  return idxBytes([labels.length], Uint8Array.from(labels));
}

export const gzip = (bytes: Uint8Array): Uint8Array => gzipSync(bytes);

export interface DatasetFiles {
  'train-images-idx3-ubyte'?: Uint8Array;
  'train-labels-idx1-ubyte'?: Uint8Array;
  't10k-images-idx3-ubyte'?: Uint8Array;
  't10k-labels-idx1-ubyte'?: Uint8Array;
}

/** A valid 3-train/2-test dataset; override entries to break it, `undefined` to leave one out. */
export function validDataset(): Record<keyof DatasetFiles, Uint8Array> {
  return {
    'train-images-idx3-ubyte': imagesIdx(3),
    'train-labels-idx1-ubyte': labelsIdx([5, 0, 9]),
    't10k-images-idx3-ubyte': imagesIdx(2),
    't10k-labels-idx1-ubyte': labelsIdx([7, 2]),
  };
}

export class TempDirs {
  private readonly dirs: string[] = [];

  async make(files: Record<string, Uint8Array | undefined> = {}): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'idx-test-'));
    this.dirs.push(dir);
    for (const [name, bytes] of Object.entries(files)) {
      if (bytes !== undefined) await writeFile(join(dir, name), bytes);
    }
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
