// One event file, read incrementally: each `readNew()` reads what was appended since the last one,
// with one file handle, in large chunks, and decodes only what a run's metrics need.
//
// What TensorBoard does, and what we do (event_file_loader.py, compat/tensorflow_stub/
// pywrap_tensorflow.py, data/server/{tf_record,event_file,run}.rs):
// - A record cut short at the end of the file (its length, header CRC, data or data CRC not all
//   there yet) is "not written yet": TensorBoard keeps its offset and tries again on the next load
//   (event_file_loader.py: "PyRecordReader holds the offset prior to the failed read, so retrying
//   will succeed"; tf_record.rs `Truncated`). So do we, and keep the bytes of such a record that
//   were already read (up to CARRY_BYTES), so that nothing is read twice.
// - A record whose length CRC fails, whose data CRC fails, or whose data is not an Event: the
//   data server marks the file dead and reads no more of it (run.rs `EventFile::Dead`), and the
//   Python loader stops there at every reload. We stop too, keep every point read before, and say
//   where and why, naming the file and the byte offset. Skipping to the next record is not safe
//   for a bad length, and TensorBoard does not do it for a bad data CRC either; our charts show
//   what TensorBoard shows.
// - A length prefix beyond MAX_RECORD_BYTES is damage and is never allocated for; a length within
//   it but past the end of the file is a record not written yet, and is not allocated for either
//   until the file holds it.
import { NotFoundError } from '../../base/errors.js';
import { closeSync, readSync } from 'node:fs';
import { isMissing, openRegularSync } from '../../base/regular-file.js';
import { isStoragePath, openFile } from '../../storage/file-access.js';
import { type DecodedBatch, EventDecoder, type ScalarPoint } from './event-decoder.js';
import type { SessionStart } from './hparams.js';
import { WireError } from './proto-cursor.js';
import { FRAMING_BYTES, HEADER_BYTES, MAX_RECORD_BYTES, dataCrcMatches, lengthCrcMatches, recordLength } from './tfrecord.js';

export type { ScalarPoint, SessionStart };

export interface EventFileProblem {
  /**
   * `damaged`: reading stopped at this offset (TensorBoard stops there too); `skipped`: something
   * passed over, said once per file; `replaced`: the file is not the one read before, and was read
   * again from its start.
   */
  readonly kind: 'damaged' | 'skipped' | 'replaced';
  readonly file: string;
  readonly byteOffset: number;
  /** The whole sentence, naming the file and the offset. */
  readonly message: string;
}

export interface EventFileRead {
  /** The scalar points of the records completed since the last call, in file order. */
  readonly points: readonly ScalarPoint[];
  /** The hparams session record, when these records held one (the last, if several). */
  readonly sessionStart: SessionStart | null;
  /** The `file_version` event's text, when these records held it. */
  readonly fileVersion: string | null;
  /** Summaries (or events) passed over, by kind: `images`, `histograms`, `graphs`, `plugin "x"`, … */
  readonly skipped: Readonly<Record<string, number>>;
  readonly problems: readonly EventFileProblem[];
  /** The file was replaced or cut short: drop what earlier calls returned; these records start from its beginning. */
  readonly reset: boolean;
  /** Bytes read from the file by this call. */
  readonly bytesRead: number;
  /** Where the next record starts: the end of the last whole record. */
  readonly offset: number;
  /** Bytes after `offset` that are not a whole record yet. */
  readonly pendingBytes: number;
}

/** What the reader needs of an opened file (tests wrap it to count the bytes read). */
export interface OpenedEventFile {
  readonly size: number;
  /** Tells this file from another that later takes its name. */
  readonly identity: string;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

/** How much is read synchronously between two turns of the event loop. */
const YIELD_BYTES = 8 * 1024 * 1024;

/**
 * Opens an event file non-blocking and only if it is a regular file (base/regular-file.ts), and
 * reads it with synchronous calls, as the catalog reads manifests: a run's event files are read by
 * the thousand, and the promise API's round trip through the thread pool costs 60 µs a file more
 * than open, fstat, read and close themselves (measured here). Each call reads one chunk (1 MiB
 * by default) from the page cache or the disk, and the event loop gets a turn every 8 MiB.
 */
export async function openEventFile(file: string): Promise<OpenedEventFile> {
  if (isStoragePath(file)) return openStoredEventFile(file);
  let opened;
  try {
    opened = openRegularSync(file);
  } catch (error) {
    if (isMissing(error)) throw new NotFoundError(file, 'is gone: the event file was deleted or renamed');
    throw error;
  }
  const { fd, stats } = opened;
  let closed = false;
  let sinceYield = 0;
  return {
    size: stats.size,
    identity: `${stats.dev}:${stats.ino}`,
    read: async (buffer, offset, length, position) => {
      const bytes = readSync(fd, buffer, offset, length, position);
      // A large file is read in many chunks: the event loop gets a turn every few of them.
      sinceYield += bytes;
      if (sinceYield >= YIELD_BYTES) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return bytes;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/**
 * An event file in an object store: each read is a ranged GET of what the reader asks for next,
 * from where the last read stopped, so a file that grows (rewritten whole by its writer, as S3
 * keeps objects) costs only its new bytes each time. Its identity is its key: being rewritten
 * longer is how it grows there; a shorter one is a replacement, as on disk.
 */
async function openStoredEventFile(file: string): Promise<OpenedEventFile> {
  let opened;
  try {
    opened = await openFile(file);
  } catch (error) {
    if (isMissing(error)) throw new NotFoundError(file.replace(/^s3:\/+/, 's3://'), 'is gone: the event file was deleted or renamed');
    throw error;
  }
  const { file: object, size, identity } = opened;
  return {
    size,
    identity,
    read: async (buffer, offset, length, position) => (await object.read(buffer, offset, length, position)).bytesRead,
    close: () => object.close(),
  };
}

export interface EventFileReaderOptions {
  readonly open?: (file: string) => Promise<OpenedEventFile>;
  /** How much is read at once (the buffer grows only for a record larger than this). */
  readonly chunkBytes?: number;
  readonly maxRecordBytes?: number;
  /** Reads the usual scalar events by their exact bytes (canonical-scalars.ts); off only to compare that with the general parser. */
  readonly canonicalScalars?: boolean;
}

const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** An unfinished record's bytes kept between calls up to this size; a larger one is read again when whole. */
const CARRY_BYTES = 64 * 1024;

/** The bytes of one call's reading: a window of the file in `buf`, from file offset `start`. */
interface Window {
  buf: Buffer;
  start: number;
  filled: number;
  /** The file's size when opened (smaller if it shrank while being read). */
  end: number;
  bytesRead: number;
}

export class EventFileReader {
  private position = 0;
  /** Bytes from `position` already read: the start of a record not written whole yet. */
  private carry: Buffer | null = null;
  private identity: string | null = null;
  private stoppedAt: number | null = null;
  private version: string | null = null;
  private readonly decoder: EventDecoder;
  private readonly open: (file: string) => Promise<OpenedEventFile>;
  private readonly chunkBytes: number;
  private readonly maxRecordBytes: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    options: EventFileReaderOptions = {},
  ) {
    this.open = options.open ?? openEventFile;
    this.chunkBytes = Math.max(HEADER_BYTES, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    this.maxRecordBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    this.decoder = new EventDecoder(options.canonicalScalars ?? true);
  }

  /** Where the next record starts. */
  get offset(): number {
    return this.position;
  }

  /** The file's `file_version` (`brain.Event:2`), once read. */
  get fileVersion(): string | null {
    return this.version;
  }

  /** Damage stopped the reading (see the problem it was reported with); null while reading goes on. */
  get stoppedAtOffset(): number | null {
    return this.stoppedAt;
  }

  /** What was appended since the last call. Calls made while one runs wait for it. */
  readNew(): Promise<EventFileRead> {
    const next = this.queue.then(() => this.readOnce());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readOnce(): Promise<EventFileRead> {
    const opened = await this.open(this.file);
    const problems: EventFileProblem[] = [];
    let reset = false;
    let bytesRead = 0;
    try {
      const known = this.position + (this.carry?.length ?? 0);
      if (this.identity !== null && (opened.identity !== this.identity || opened.size < known)) {
        reset = true;
        problems.push(
          this.problem('replaced', 0, `is not the file read before (it is now ${opened.size} bytes; ${known} were read): it is read again from its start`),
        );
        this.restart();
      }
      this.identity = opened.identity;
      if (this.stoppedAt === null) bytesRead = await this.scan(opened, problems);
    } finally {
      await opened.close();
    }
    const batch = this.decoder.take();
    if (batch.fileVersion !== null) this.version = batch.fileVersion;
    for (const note of batch.notes) problems.push(this.problem('skipped', note.at, note.message));
    return this.result(batch, problems, reset, bytesRead, opened.size);
  }

  private restart(): void {
    this.position = 0;
    this.carry = null;
    this.stoppedAt = null;
    this.version = null;
    this.decoder.reset();
  }

  private result(batch: DecodedBatch, problems: EventFileProblem[], reset: boolean, bytesRead: number, size: number): EventFileRead {
    return {
      points: batch.points,
      sessionStart: batch.sessionStart,
      fileVersion: batch.fileVersion,
      skipped: Object.fromEntries(batch.skipped),
      problems,
      reset,
      bytesRead,
      offset: this.position,
      pendingBytes: this.stoppedAt === null ? Math.max(0, size - this.position) : 0,
    };
  }

  private problem(kind: EventFileProblem['kind'], byteOffset: number, problem: string): EventFileProblem {
    return { kind, file: this.file, byteOffset, message: `${this.file} (byte ${byteOffset}): ${problem}` };
  }

  /** Reading stops at `at`, for good: a problem says where and why. */
  private damaged(at: number, end: number, problems: EventFileProblem[], what: string): { pos: number; needed: 0 } {
    this.stoppedAt = at;
    const rest = end - at;
    problems.push(
      this.problem(
        'damaged',
        at,
        `${what}: the file is damaged here. TensorBoard reads no further in such a file, and neither does this reader: the ${rest} byte${rest === 1 ? '' : 's'} from here on are not read`,
      ),
    );
    return { pos: at, needed: 0 };
  }

  /** Reads and decodes every whole record from `position`; returns the bytes read. */
  private async scan(opened: OpenedEventFile, problems: EventFileProblem[]): Promise<number> {
    const carry = this.carry;
    this.carry = null;
    const from = this.position + (carry?.length ?? 0);
    if (from >= opened.size) {
      this.carry = carry;
      return 0;
    }
    const size = Math.max(carry?.length ?? 0, Math.min(this.chunkBytes, opened.size - this.position));
    const w: Window = { buf: Buffer.allocUnsafe(size), start: this.position, filled: 0, end: opened.size, bytesRead: 0 };
    if (carry) w.filled = carry.copy(w.buf, 0);
    await fill(opened, w);
    let pos = this.position;
    for (;;) {
      const stop = this.decodeWindow(w, pos, problems);
      pos = stop.pos;
      if (stop.needed === 0) break;
      await refill(opened, w, pos, stop.needed);
    }
    this.position = pos;
    const tail = w.start + w.filled - pos;
    if (this.stoppedAt === null && tail > 0 && tail <= CARRY_BYTES) this.carry = Buffer.from(w.buf.subarray(pos - w.start, w.filled));
    return w.bytesRead;
  }

  /**
   * Decodes every whole record the window holds from `pos` (synchronously: a promise per record
   * would cost more than decoding it). Returns where it stopped and how many bytes from there the
   * window must hold to go on; 0 when nothing more can be read now (a record not written whole
   * yet, the end of the file, or damage).
   */
  private decodeWindow(w: Window, from: number, problems: EventFileProblem[]): { pos: number; needed: number } {
    const buf = w.buf;
    for (let pos = from; ;) {
      const local = pos - w.start;
      const held = w.filled - local;
      if (held < HEADER_BYTES) return { pos, needed: pos + HEADER_BYTES > w.end ? 0 : HEADER_BYTES };
      if (!lengthCrcMatches(buf, local)) return this.damaged(pos, w.end, problems, "the record's length field fails its CRC");
      const length = recordLength(buf, local);
      if (length > this.maxRecordBytes)
        return this.damaged(
          pos,
          w.end,
          problems,
          `the record claims ${buf.readBigUInt64LE(local)} bytes, more than any event holds (${this.maxRecordBytes} at most)`,
        );
      const total = FRAMING_BYTES + length;
      if (pos + total > w.end) return { pos, needed: 0 };
      if (held < total) return { pos, needed: total };
      const dataStart = local + HEADER_BYTES;
      if (!dataCrcMatches(buf, dataStart, dataStart + length)) return this.damaged(pos, w.end, problems, `the record's ${length} bytes of data fail their CRC`);
      try {
        this.decoder.decode(buf, dataStart, dataStart + length, pos + HEADER_BYTES);
      } catch (error) {
        if (!(error instanceof WireError)) throw error;
        const at = pos + HEADER_BYTES + (error.at - dataStart);
        return this.damaged(pos, w.end, problems, `the record passes its CRC but is not an Event (byte ${at}: ${error.message})`);
      }
      pos += total;
    }
  }
}

/** Reads into the window until it is full or holds the rest of the file. */
async function fill(opened: OpenedEventFile, w: Window): Promise<void> {
  while (w.filled < w.buf.length && w.start + w.filled < w.end) {
    const bytes = await opened.read(w.buf, w.filled, Math.min(w.buf.length - w.filled, w.end - w.start - w.filled), w.start + w.filled);
    // The file shrank while being read: what is there is all there is this time.
    if (bytes === 0) w.end = w.start + w.filled;
    w.filled += bytes;
    w.bytesRead += bytes;
  }
}

/** Moves the window to start at `pos`, large enough for `needed` bytes, and reads on. */
async function refill(opened: OpenedEventFile, w: Window, pos: number, needed: number): Promise<void> {
  const local = pos - w.start;
  if (needed > w.buf.length) {
    const grown = Buffer.allocUnsafe(needed);
    w.buf.copy(grown, 0, local, w.filled);
    w.buf = grown;
  } else w.buf.copy(w.buf, 0, local, w.filled);
  w.filled -= local;
  w.start = pos;
  await fill(opened, w);
}
