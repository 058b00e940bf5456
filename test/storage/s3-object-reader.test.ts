// The S3 object read as a file: reads going forward continue one GET, the header's second read
// from the start is served from the bytes already read, and a read elsewhere starts a new GET.
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Body, S3ObjectReader } from '../../electron/core/storage/s3-object-reader.js';

const SIZE = 1000;
const bytes = Uint8Array.from({ length: SIZE }, (_, i) => i % 251);

type BodyKind = 'iterable' | 'stream';

/** A body from `from`, arriving in chunks of 7 bytes, as a socket gives them, not as reads ask: a plain async iterable, or a Node stream (as the SDK gives in Node). */
function body(kind: BodyKind, from: number, onDestroy: () => void): Body {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let at = from; at < SIZE; at += 7) yield bytes.slice(at, Math.min(SIZE, at + 7));
  }
  if (kind === 'iterable') return Object.assign(chunks(), { destroy: onDestroy });
  const stream = Readable.from(chunks(), { objectMode: false, highWaterMark: 16 });
  const destroy = stream.destroy.bind(stream);
  stream.destroy = (error?: Error) => {
    onDestroy();
    return destroy(error);
  };
  return stream;
}

let kind: BodyKind = 'iterable';

function reader(initial = false): { file: S3ObjectReader; gets: number[]; dropped: number[] } {
  const gets: number[] = [];
  const dropped: number[] = [];
  const openFrom = async (from: number) => {
    gets.push(from);
    return body(kind, from, () => dropped.push(from));
  };
  const first = initial ? body(kind, 0, () => dropped.push(-1)) : undefined;
  return { file: new S3ObjectReader(openFrom, SIZE, first), gets, dropped };
}

async function readAt(file: S3ObjectReader, position: number, length: number): Promise<number[]> {
  const buffer = new Uint8Array(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return [...buffer.subarray(0, bytesRead)];
}

describe.each(['iterable', 'stream'] as const)('an S3 object read as a file (its body a %s)', (bodyKind) => {
  beforeEach(() => {
    kind = bodyKind;
  });

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

describe('an S3 object whose body is a Node stream', () => {
  it('holds no more than 8 MB that no read asked for: past that the stream is paused', async () => {
    const chunk = new Uint8Array(64 * 1024);
    let given = 0;
    const stream = new Readable({
      read() {
        given += chunk.length;
        this.push(chunk);
      },
    });
    const file = new S3ObjectReader(async () => stream, 1 << 30, stream);
    await file.read(new Uint8Array(8), 0, 8, 0);
    // The chunks may all have come within the read (a stream that pushes as it is asked).
    if (stream.readableFlowing !== false) await once(stream, 'pause');
    expect(given).toBeGreaterThanOrEqual(8 << 20);
    expect(given).toBeLessThan(9 << 20);
    await file.close();
  });

  it('fails the read waiting on a body whose connection broke', async () => {
    const stream = new Readable({ read() {} });
    const file = new S3ObjectReader(async () => stream, 1000, stream);
    const reading = file.read(new Uint8Array(100), 0, 100, 0);
    stream.push(new Uint8Array(20));
    stream.destroy(new Error('socket hang up'));
    await expect(reading).rejects.toThrow('socket hang up');
  });
});
