import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IdxFormatError, parseIdx, readIdxFile } from '../../electron/core/training/data/idx.js';
import { TempDirs, gzip, idxBytes, imagesIdx, labelsIdx } from './idx-fixtures.js';

const temp = new TempDirs();
afterEach(() => temp.cleanup());

async function fileWith(bytes: Uint8Array, name = 'data-idx-ubyte'): Promise<string> {
  const path = join(await temp.make(), name);
  await writeFile(path, bytes);
  return path;
}

async function readError(path: string, rank: number): Promise<IdxFormatError> {
  const error: unknown = await readIdxFile(path, rank).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IdxFormatError);
  return error as IdxFormatError;
}

describe('parseIdx', () => {
  it('reads the dimensions and a header-free view of the elements', () => {
    const parsed = parseIdx(idxBytes([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 6])), 'x', 2);
    expect(parsed.dims).toEqual([2, 3]);
    expect([...parsed.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parsed.dataOffset).toBe(12);
    expect(parsed.gunzipped).toBe(false);
  });

  it('rejects a non-zero first half of the magic number at byte 0', () => {
    const bytes = labelsIdx([1]);
    bytes[0] = 0x12;
    expect(() => parseIdx(bytes, 'f', 1)).toThrow(/^f \(byte 0\): expected magic number 0x00000801 .*, but the first two bytes are not zero: not an IDX file$/);
  });

  it('rejects another element type at byte 2', () => {
    const bytes = idxBytes([1], new Uint8Array(4), 0x0d);
    expect(() => parseIdx(bytes, 'f', 1)).toThrow(/^f \(byte 2\): expected magic number 0x00000801 .*, found type code 0x0d \(float, 4 bytes\) where 0x08/);
  });

  it('rejects a different number of dimensions at byte 3', () => {
    expect(() => parseIdx(labelsIdx([1, 2]), 'f', 3)).toThrow(
      /^f \(byte 3\): expected magic number 0x00000803 \(unsigned-byte IDX with 3 dimensions\), found 0x00000801: 1 dimensions where 3 belong$/,
    );
  });

  it('rejects a header cut short', () => {
    const bytes = imagesIdx(1).subarray(0, 10);
    expect(() => parseIdx(bytes, 'f', 3)).toThrow(/^f \(byte 10\): expected a 16-byte header/);
  });

  it('rejects files too short for a magic number', () => {
    expect(() => parseIdx(new Uint8Array(2), 'f', 1)).toThrow(/^f \(byte 0\): expected at least 4 bytes/);
  });
});

describe('readIdxFile', () => {
  it('reads a raw file and the same file gzipped, whatever its name', async () => {
    const bytes = imagesIdx(2);
    const raw = await readIdxFile(await fileWith(bytes), 3);
    const zipped = await readIdxFile(await fileWith(gzip(bytes), 'no-gz-extension'), 3);
    expect(raw.dims).toEqual([2, 28, 28]);
    expect(zipped.dims).toEqual([2, 28, 28]);
    expect(zipped.gunzipped).toBe(true);
    expect(Buffer.from(zipped.data).equals(Buffer.from(raw.data))).toBe(true);
  });

  it('names the file, the offset and both lengths for a truncated file', async () => {
    const path = await fileWith(imagesIdx(2).subarray(0, 16 + 2 * 784 - 5));
    const error = await readError(path, 3);
    expect(error.file).toBe(path);
    expect(error.byteOffset).toBe(16 + 2 * 784 - 5);
    expect(error.message).toBe(`${path} (byte 1579): expected 1584 bytes (16-byte header + 2×28×28 elements), found 1579: truncated: 5 bytes missing`);
  });

  it('names the file and the offset where trailing bytes begin', async () => {
    const bytes = labelsIdx([1, 2, 3]);
    const path = await fileWith(Uint8Array.from([...bytes, 0, 0]));
    const error = await readError(path, 1);
    expect(error.byteOffset).toBe(11);
    expect(error.message).toBe(`${path} (byte 11): expected 11 bytes (8-byte header + 3 elements), found 13: 2 unexpected trailing bytes`);
  });

  it('reports offsets inside gzipped files as offsets of the decompressed data', async () => {
    const bytes = labelsIdx([1, 2, 3]);
    bytes[2] = 0x0c;
    const path = await fileWith(gzip(bytes), 'labels.gz');
    const error = await readError(path, 1);
    expect(error.message).toMatch(new RegExp(`^${escapeRegExp(path)} \\(byte 2 of the gunzipped data\\): .*type code 0x0c`));
  });

  it('reports corrupt gzip data', async () => {
    const zipped = gzip(labelsIdx([1, 2, 3]));
    const path = await fileWith(zipped.subarray(0, zipped.length - 6), 'labels.gz');
    const error = await readError(path, 1);
    expect(error.message).toMatch(new RegExp(`^${escapeRegExp(path)}: gzip data cannot be decompressed: `));
  });

  it('reports an unreadable file as a format error naming it', async () => {
    const path = join(await temp.make(), 'absent');
    const error = await readError(path, 1);
    expect(error.message).toMatch(new RegExp(`^${escapeRegExp(path)}: cannot be read: .*ENOENT`));
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
