// The S3 object read as a file: reads going forward continue one GET, the header's second read
// from the start is served from the bytes already read, and a read elsewhere starts a new GET.
import { describe, expect, it } from 'vitest';
import { S3ObjectReader } from '../../electron/core/storage/s3-object-reader.js';

const SIZE = 1000;
const bytes = Uint8Array.from({ length: SIZE }, (_, i) => i % 251);

function reader(initial = false): { file: S3ObjectReader; gets: number[]; dropped: number[] } {
  const gets: number[] = [];
  const dropped: number[] = [];
  const openFrom = async (from: number) => {
    gets.push(from);
    // The body arrives in chunks of 7 bytes, as a socket gives them, not as reads ask.
    async function* chunks(): AsyncIterable<Uint8Array> {
      for (let at = from; at < SIZE; at += 7) yield bytes.slice(at, Math.min(SIZE, at + 7));
    }
    return Object.assign(chunks(), { destroy: () => dropped.push(from) });
  };
  async function* whole(): AsyncIterable<Uint8Array> {
    for (let at = 0; at < SIZE; at += 7) yield bytes.slice(at, Math.min(SIZE, at + 7));
  }
  const first = initial ? Object.assign(whole(), { destroy: () => dropped.push(-1) }) : undefined;
  return { file: new S3ObjectReader(openFrom, SIZE, first), gets, dropped };
}

async function readAt(file: S3ObjectReader, position: number, length: number): Promise<number[]> {
  const buffer = new Uint8Array(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return [...buffer.subarray(0, bytesRead)];
}

describe('an S3 object read as a file', () => {
  it('reads a header twice and the data after it with one GET, every byte where it belongs', async () => {
    const { file, gets } = reader();
    expect(await readAt(file, 0, 8)).toEqual([...bytes.subarray(0, 8)]);
    expect(await readAt(file, 0, 20)).toEqual([...bytes.subarray(0, 20)]);
    expect(await readAt(file, 20, 30)).toEqual([...bytes.subarray(20, 50)]);
    expect(await readAt(file, 50, 10)).toEqual([...bytes.subarray(50, 60)]);
    expect(await readAt(file, 5, 10)).toEqual([...bytes.subarray(5, 15)]);
    expect(gets).toEqual([0]);
  });

  it('starts a new GET for a read elsewhere, drops the old stream, and stops at the end of the object', async () => {
    const { file, gets, dropped } = reader();
    await readAt(file, 0, 8);
    expect(await readAt(file, 400, 16)).toEqual([...bytes.subarray(400, 416)]);
    expect(await readAt(file, 990, 50)).toEqual([...bytes.subarray(990, 1000)]);
    expect(gets).toEqual([0, 400, 990]);
    expect(dropped).toEqual([0, 400]);
    await file.close();
    expect(dropped).toEqual([0, 400, 990]);
  });

  it('reads from the start on the GET that told the size, with no other', async () => {
    const { file, gets, dropped } = reader(true);
    expect(await readAt(file, 0, 8)).toEqual([...bytes.subarray(0, 8)]);
    expect(await readAt(file, 0, 20)).toEqual([...bytes.subarray(0, 20)]);
    expect(await readAt(file, 20, 980)).toEqual([...bytes.subarray(20, 1000)]);
    expect(gets).toEqual([]);
    await file.close();
    expect(dropped).toEqual([-1]);
  });

  it('takes reads asked at once one at a time, in order', async () => {
    const { file, gets } = reader();
    const all = await Promise.all([readAt(file, 0, 100), readAt(file, 100, 100), readAt(file, 200, 100)]);
    expect(all.flat()).toEqual([...bytes.subarray(0, 300)]);
    expect(gets).toEqual([0]);
  });
});
