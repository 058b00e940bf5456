// A GET's body as the reader of an S3 object takes it: bytes poured into the buffer a read gives,
// in order. In Node the SDK's body is a readable stream (an http.IncomingMessage): it is let flow,
// and each chunk the socket gives is copied straight into the waiting read's buffer from its
// 'data' event, one promise per read rather than one per 64 KB chunk as async iteration costs
// (the plain GetObject it is measured against collects 'data' events too). Any other async
// iterable (tests, other runtimes) is pulled chunk by chunk.

/** What a GET gives: an async iterable of chunks, destroyable to drop the connection. */
export type Body = AsyncIterable<Uint8Array> & { destroy?: () => void };

export interface ChunkSource {
  /**
   * Fills buffer[offset, offset + wanted) with the next bytes, fewer only where the stream ends;
   * `taken` sees each part as it is taken, in order.
   */
  fill(buffer: Uint8Array, offset: number, wanted: number, taken: (part: Uint8Array) => void): Promise<number>;
  /** Puts bytes back in front of what the stream has still to give. */
  unshift(parts: readonly Uint8Array[]): void;
  destroy(): void;
}

/** Chunks that arrived with no read waiting for them; past this the stream is paused. */
const QUEUED_BYTES = 8 << 20;

interface Flowing {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(): unknown;
}

function isFlowing(body: Body): body is Body & Flowing {
  const b = body as Partial<Flowing>;
  return typeof b.on === 'function' && typeof b.pause === 'function' && typeof b.resume === 'function' && typeof b.destroy === 'function';
}

interface Waiting {
  readonly buffer: Uint8Array;
  readonly offset: number;
  readonly wanted: number;
  got: number;
  readonly taken: (part: Uint8Array) => void;
  readonly resolve: (got: number) => void;
  readonly reject: (error: unknown) => void;
}

/** Copies as much of `chunk` as the read still wants into its buffer; returns how many bytes. */
function pour(waiting: Omit<Waiting, 'resolve' | 'reject'>, chunk: Uint8Array): number {
  const take = Math.min(chunk.length, waiting.wanted - waiting.got);
  const part = take === chunk.length ? chunk : chunk.subarray(0, take);
  waiting.buffer.set(part, waiting.offset + waiting.got);
  waiting.taken(part);
  waiting.got += take;
  return take;
}

class FlowingSource implements ChunkSource {
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private failure: { readonly error: unknown } | null = null;
  private waiting: Waiting | null = null;

  constructor(private readonly stream: Flowing) {
    stream.on('data', (chunk) => this.arrive(chunk));
    stream.on('end', () => {
      this.ended = true;
      this.settle();
    });
    stream.on('error', (error) => {
      this.failure ??= { error };
      this.settle();
    });
    // A connection closed before the body's end, without an error event of its own.
    stream.on('close', () => {
      if (!this.ended) this.failure ??= { error: new Error('the connection closed before the end of the object') };
      this.settle();
    });
    // Attaching 'data' set it flowing: it flows while a read waits, or until QUEUED_BYTES are held.
    stream.pause();
  }

  fill(buffer: Uint8Array, offset: number, wanted: number, taken: (part: Uint8Array) => void): Promise<number> {
    const filling = { buffer, offset, wanted, got: 0, taken };
    while (filling.got < wanted && this.queue.length > 0) {
      const chunk = this.queue[0] as Uint8Array;
      const take = pour(filling, chunk);
      this.queued -= take;
      if (take < chunk.length) this.queue[0] = chunk.subarray(take);
      else this.queue.shift();
    }
    if (filling.got === wanted || this.ended) return Promise.resolve(filling.got);
    if (this.failure) return Promise.reject(this.failure.error);
    return new Promise<number>((resolve, reject) => {
      this.waiting = { ...filling, resolve, reject };
      this.stream.resume();
    });
  }

  private arrive(chunk: Uint8Array): void {
    const waiting = this.waiting;
    const take = waiting === null ? 0 : pour(waiting, chunk);
    if (take < chunk.length) {
      this.queue.push(take === 0 ? chunk : chunk.subarray(take));
      this.queued += chunk.length - take;
    }
    if (waiting !== null && waiting.got === waiting.wanted) {
      this.waiting = null;
      waiting.resolve(waiting.got);
    }
    if (this.waiting === null && this.queued >= QUEUED_BYTES) this.stream.pause();
  }

  private settle(): void {
    const waiting = this.waiting;
    if (waiting === null) return;
    this.waiting = null;
    if (this.ended) waiting.resolve(waiting.got);
    else if (this.failure) waiting.reject(this.failure.error);
  }

  unshift(parts: readonly Uint8Array[]): void {
    for (const part of [...parts].reverse()) {
      this.queue.unshift(part);
      this.queued += part.length;
    }
  }

  destroy(): void {
    this.ended = true;
    this.stream.destroy();
  }
}

class PulledSource implements ChunkSource {
  private readonly chunks: AsyncIterator<Uint8Array>;
  private readonly front: Uint8Array[] = [];

  constructor(private readonly body: Body) {
    this.chunks = body[Symbol.asyncIterator]();
  }

  async fill(buffer: Uint8Array, offset: number, wanted: number, taken: (part: Uint8Array) => void): Promise<number> {
    const waiting = { buffer, offset, wanted, got: 0, taken };
    while (waiting.got < wanted) {
      let chunk = this.front.shift();
      if (chunk === undefined) {
        const step = await this.chunks.next();
        if (step.done) break;
        chunk = step.value;
      }
      const take = pour(waiting, chunk);
      if (take < chunk.length) this.front.unshift(chunk.subarray(take));
    }
    return waiting.got;
  }

  unshift(parts: readonly Uint8Array[]): void {
    this.front.unshift(...parts);
  }

  destroy(): void {
    this.body.destroy?.();
  }
}

export function sourceOf(body: Body): ChunkSource {
  return isFlowing(body) ? new FlowingSource(body) : new PulledSource(body);
}
