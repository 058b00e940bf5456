// Shared by the TensorFlow bundle tests: where the fixtures are, and how to damage a copy of one.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { crc32c } from '../../electron/core/base/crc32c.js';
import { maskCrc } from '../../electron/core/formats/tf/masked-crc.js';
import { buildTable } from '../../electron/core/formats/tf/sstable-writer.js';
import { readTable } from '../../electron/core/formats/tf/sstable-reader.js';
import { sharedFixture, testData } from '../fixtures.js';

/** Every bundle fixture: the shared ones (if present) and the Apache-licensed copies in test/data. */
export const SHARED_INDEX_FILES = [
  'sharded/overtopping-savedmodel/variables/variables.index',
  ...Array.from({ length: 10 }, (_, i) => `tf1-saver/mnist-softmax-10steps/model-${(i + 1) * 1000}.index`),
  'tf1-saver/savedmodel-v1-half-plus-two/variables/variables.index',
  'tf1-saver/serving-half-plus-two-exporter/export.index',
  'tf2-checkpoint/savedmodel-keras-text-regression/variables/variables.index',
  'tf2-checkpoint/savedmodel-v2-half-plus-two/variables/variables.index',
  'tf2-checkpoint/tictactoe-manager/ckpt-17.index',
  'tf2-checkpoint/tictactoe-manager/ckpt-18.index',
  'tf2-checkpoint/tictactoe-manager/ckpt-19.index',
];

export const LOCAL_INDEX_FILES = [
  testData('tf-serving', 'half-plus-two-exporter', 'export.index'),
  testData('tf-serving', 'saved-model-v1-half-plus-two', 'variables', 'variables.index'),
  testData('tf-serving', 'saved-model-v2-half-plus-two', 'variables', 'variables.index'),
  testData('tf-serving', 'keras-text-regression', 'variables', 'variables.index'),
];

/** A shared fixture's path, or the test/data copy of the same Apache file when the shared folder is absent. */
export function fixture(shared: string, local?: string): string | null {
  return sharedFixture(shared) ?? (local === undefined ? null : testData(local));
}

const temporaries: string[] = [];
afterEach(async () => {
  for (const dir of temporaries.splice(0)) await rm(dir, { recursive: true, force: true });
});

export async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tf-bundle-test-'));
  temporaries.push(dir);
  return dir;
}

/** A writable copy of a fixture folder. */
export async function copyOf(folder: string): Promise<string> {
  const dir = await temporaryDir();
  await cp(folder, dir, { recursive: true });
  const { chmod, readdir } = await import('node:fs/promises');
  for (const name of await readdir(dir, { recursive: true })) await chmod(path.join(dir, String(name)), 0o755).catch(() => undefined);
  await chmod(dir, 0o755);
  return dir;
}

function varint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[pos++] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, pos];
  }
}

/** The [offset, size] of every data block of an index file, read from its (intact) footer and index block. */
export function dataBlocks(bytes: Uint8Array): [number, number][] {
  let pos = bytes.length - 48;
  [, pos] = varint(bytes, pos);
  [, pos] = varint(bytes, pos);
  const [indexOffset, after] = varint(bytes, pos);
  const [indexSize] = varint(bytes, after);
  const block = bytes.subarray(indexOffset, indexOffset + indexSize);
  const restarts = Buffer.from(block.buffer, block.byteOffset, block.length).readUInt32LE(block.length - 4);
  const end = block.length - 4 - 4 * restarts;
  const out: [number, number][] = [];
  let p = 0;
  while (p < end) {
    let shared: number, nonShared: number, valueLength: number;
    [shared, p] = varint(block, p);
    [nonShared, p] = varint(block, p);
    [valueLength, p] = varint(block, p);
    void shared;
    p += nonShared;
    const [offset, q] = varint(block, p);
    const [size] = varint(block, q);
    out.push([offset, size]);
    p += valueLength;
  }
  return out;
}

/** Recomputes the trailer CRC of the block at [offset, size), as a writer would have after changing its bytes. */
export function resealBlock(bytes: Uint8Array, offset: number, size: number): void {
  const crc = maskCrc(crc32c(bytes.subarray(offset, offset + size + 1)));
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).writeUInt32LE(crc, offset + size + 1);
}

/** Rewrites one entry's value of an index file (re-encoding the table, which is byte-identical for the fixtures' options). */
export async function rewriteEntry(indexFile: string, key: string, value: (old: Uint8Array) => Uint8Array): Promise<void> {
  const table = readTable(await readFile(indexFile), indexFile);
  const entries = table.entries.map((e) => ({ key: Buffer.from(e.key, 'utf8'), value: e.key === key ? value(e.value) : e.value }));
  await writeFile(indexFile, buildTable(entries));
}
