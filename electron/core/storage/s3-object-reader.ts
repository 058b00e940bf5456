// An S3 object read as a file: reads at increasing offsets (how tensor files are checked and
// loaded: the header, then the data in order) continue one streamed GET instead of paying a
// request per chunk; a read anywhere else starts a new GET from there and drops the old stream.
// Reads are taken one at a time, in the order they were asked.
import type { RandomAccessFile } from './storage.js';

type Body = AsyncIterable<Uint8Array> & { destroy?: () => void };

interface Cursor {
  position: number;
  readonly body: Body;
  readonly chunks: AsyncIterator<Uint8Array>;
  leftover: Uint8Array | null;
}

export class S3ObjectReader implements RandomAccessFile {
  private cursor: Cursor | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** Starts a GET of the object from `from` to its end. */
    private readonly openFrom: (from: number) => Promise<Body>,
    readonly size: number,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const next = this.queue.then(() => this.readNow(buffer, offset, length, position));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readNow(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const wanted = Math.min(length, this.size - position);
    if (wanted <= 0) return { bytesRead: 0 };
    if (this.cursor === null || this.cursor.position !== position) {
      this.drop();
      const body = await this.openFrom(position);
      this.cursor = { position, body, chunks: body[Symbol.asyncIterator](), leftover: null };
    }
    const cursor = this.cursor;
    let got = 0;
    try {
      while (got < wanted) {
        let chunk = cursor.leftover;
        cursor.leftover = null;
        if (chunk === null) {
          const step = await cursor.chunks.next();
          if (step.done) break;
          chunk = step.value;
        }
        const take = Math.min(chunk.length, wanted - got);
        buffer.set(chunk.subarray(0, take), offset + got);
        got += take;
        if (take < chunk.length) cursor.leftover = chunk.subarray(take);
      }
    } catch (error) {
      this.drop();
      throw error;
    }
    cursor.position += got;
    return { bytesRead: got };
  }

  private drop(): void {
    this.cursor?.body.destroy?.();
    this.cursor = null;
  }

  async close(): Promise<void> {
    await this.queue;
    this.drop();
  }
}
