// An S3 object read as a file: reads at increasing offsets (how tensor files are checked and
// loaded: the header, then the data in order) continue one streamed GET instead of paying a
// request per chunk; a read anywhere else starts a new GET from there and drops the old stream.
// Reads are taken one at a time, in the order they were asked.
import type { RandomAccessFile } from './storage.js';
import { type Body, type ChunkSource, sourceOf } from './s3-body-source.js';

export type { Body } from './s3-body-source.js';

interface Cursor {
  position: number;
  readonly source: ChunkSource;
  /** Where the stream started, and the bytes consumed since, up to KEPT_BYTES: read again without a GET. */
  readonly start: number;
  kept: Uint8Array[];
  keptBytes: number;
}

/**
 * A tensor file's header is read twice from its start (its length, then the header): the first
 * bytes a stream gave are kept so the second read is served from them, not from a second GET.
 */
const KEPT_BYTES = 1 << 20;

function cursorAt(position: number, body: Body): Cursor {
  return { position, source: sourceOf(body), start: position, kept: [], keptBytes: 0 };
}

export class S3ObjectReader implements RandomAccessFile {
  private cursor: Cursor | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** Starts a GET of the object from `from` to its end. */
    private readonly openFrom: (from: number) => Promise<Body>,
    readonly size: number,
    /** A GET already under way (the one that told the size), read first. */
    initial?: Body,
    /** Where that GET starts: 0, or where the first read is known to be (a tensor's bytes). */
    initialAt = 0,
  ) {
    if (initial !== undefined) this.cursor = cursorAt(initialAt, initial);
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const next = this.queue.then(() => this.readNow(buffer, offset, length, position));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readNow(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const wanted = Math.min(length, this.size - position);
    if (wanted <= 0) return { bytesRead: 0 };
    if (this.cursor !== null && this.cursor.position !== position) this.rewind(position);
    if (this.cursor === null || this.cursor.position !== position) {
      this.drop();
      this.cursor = cursorAt(position, await this.openFrom(position));
    }
    const cursor = this.cursor;
    // Bytes are kept while every byte the stream gave so far was kept (the stream's first bytes).
    let consumed = cursor.position - cursor.start;
    const keep = (part: Uint8Array): void => {
      if (cursor.keptBytes === consumed && cursor.keptBytes + part.length <= KEPT_BYTES) {
        cursor.kept.push(part.slice());
        cursor.keptBytes += part.length;
      }
      consumed += part.length;
    };
    let got: number;
    try {
      got = await cursor.source.fill(buffer, offset, wanted, keep);
    } catch (error) {
      this.drop();
      throw error;
    }
    cursor.position += got;
    return { bytesRead: got };
  }

  /**
   * Moves the cursor back to `position` when every byte from there to where it stands was kept:
   * those bytes go back in front of what the stream has still to give.
   */
  private rewind(position: number): void {
    const cursor = this.cursor;
    if (cursor === null || position < cursor.start || position > cursor.position || cursor.position - cursor.start !== cursor.keptBytes) return;
    let skip = position - cursor.start;
    const again: Uint8Array[] = [];
    for (const chunk of cursor.kept) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      again.push(skip > 0 ? chunk.subarray(skip) : chunk);
      skip = 0;
    }
    // Kept again as it is read again, when the cursor went back to the stream's start (the
    // header's second read); from anywhere else nothing more is kept.
    cursor.kept = [];
    cursor.keptBytes = 0;
    cursor.source.unshift(again);
    cursor.position = position;
  }

  private drop(): void {
    this.cursor?.source.destroy();
    this.cursor = null;
  }

  async close(): Promise<void> {
    await this.queue;
    this.drop();
  }
}
