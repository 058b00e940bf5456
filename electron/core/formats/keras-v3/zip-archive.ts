// A zip archive read in place with yauzl: its central directory entry by entry (lazyEntries) and
// then only the entries asked for, each from its own offset (random access through the file
// access: a file on disk, or an object in a bucket by ranged GETs), never the whole archive and
// never unpacked to disk. Entry names are only compared with the names we look for, never used as
// paths; an archive whose names could climb out of a folder (`..`, absolute paths) or that
// encrypts an entry is still refused, as no program that wrote a checkpoint makes one. yauzl does
// not check an entry's CRC-32: we do, on every read.
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { type Entry, type Options, RandomAccessReader, type ZipFile, fromRandomAccessReaderPromise } from 'yauzl';
import { shown } from '../../base/describe-value.js';
import { CheckpointFormatError } from '../../base/errors.js';
import { openFile } from '../../storage/file-access.js';
import type { RandomAccessFile } from '../../storage/storage.js';

/** Local file header signature `PK\x03\x04` (APPNOTE.TXT 4.3.7): every zip that holds a file starts with one. */
const LOCAL_HEADER = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** General purpose bit 0: the entry is encrypted (APPNOTE.TXT 4.4.4); bit 11: its name is UTF-8. */
const FLAG_ENCRYPTED = 0x1;
const FLAG_UTF8 = 0x800;
/** Stored and deflated: what Python's zipfile writes (Keras uses its default, stored). */
const READABLE_METHODS = new Set([0, 8]);
/** Bytes asked of the file per read while an entry streams. */
const READ_BYTES = 1 << 20;

export interface ZipEntryInfo {
  readonly name: string;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
}

/** yauzl's reader over the file access: each range yauzl asks for, read in order; the file is closed when yauzl is done with it. */
class FileAccessReader extends RandomAccessReader {
  constructor(private readonly file: RandomAccessFile) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const file = this.file;
    async function* bytes(): AsyncGenerator<Buffer> {
      for (let at = start; at < end;) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, end - at));
        const { bytesRead } = await file.read(buffer, 0, buffer.length, at);
        if (bytesRead === 0) throw new Error(`Unexpected end of file at byte ${at}`);
        yield buffer.subarray(0, bytesRead);
        at += bytesRead;
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  }

  override close(callback: (error: Error | null) => void): void {
    this.file.close().then(
      () => callback(null),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }
}

async function startsAsZip(file: RandomAccessFile): Promise<boolean> {
  const probe = Buffer.alloc(LOCAL_HEADER.length);
  return (await file.read(probe, 0, probe.length, 0)).bytesRead === probe.length && probe.equals(LOCAL_HEADER);
}

/** yauzl over the file at `file` (on disk or in a bucket); null when it does not start as a zip archive with a file in it does. */
async function openZip(file: string, options: Options): Promise<ZipFile | null> {
  // Read front to back in the main (a bucket's object: one streamed GET, a new one for each jump).
  const opened = await openFile(file, { sequential: true });
  try {
    if (!(await startsAsZip(opened.file))) {
      await opened.file.close();
      return null;
    }
  } catch (error) {
    await opened.file.close();
    throw error;
  }
  const reader = new FileAccessReader(opened.file);
  try {
    // Not closed by yauzl on its own: entries are read after the directory; close() closes the file once no read is left.
    return await fromRandomAccessReaderPromise(reader, opened.size, { ...options, autoClose: false });
  } catch (error) {
    await opened.file.close();
    throw new CheckpointFormatError(file, `is not a readable zip archive: ${zipProblem(error)}`);
  }
}

/**
 * The names of the first `max` entries of the zip archive `file`, unchecked, or null when it is not
 * a readable zip archive: enough to recognise what it is (a sniff), whose open then says what is
 * wrong with it.
 */
export async function zipEntryNames(file: string, max: number): Promise<string[] | null> {
  let zip: ZipFile | null;
  try {
    zip = await openZip(file, { lazyEntries: true, decodeStrings: false, validateEntrySizes: false });
  } catch {
    return null;
  }
  if (zip === null) return null;
  const names: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      names.push(entryName(entry));
      if (names.length >= max) break;
    }
    return names;
  } catch {
    return null;
  } finally {
    zip.close();
  }
}

/** yauzl's own words for what is wrong, without numbers or names read from the file. */
function zipProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const words = (message.split(/[:.]/)[0] ?? '').trim();
  return /^[A-Za-z][A-Za-z0-9 ,()'/-]{0,119}$/.test(words) ? `${words[0]?.toLowerCase()}${words.slice(1)}` : 'the zip library refused it';
}

function entryName(entry: Entry): string {
  const raw = entry.fileNameRaw;
  // Names without the UTF-8 flag are CP437; for the ASCII names compared here both read the same.
  return (entry.generalPurposeBitFlag & FLAG_UTF8) !== 0 ? raw.toString('utf8') : raw.toString('latin1');
}

function unsafeName(name: string): boolean {
  return name.includes('\0') || /^([\\/]|[A-Za-z]:)/.test(name) || name.split(/[\\/]/).includes('..');
}

export class ZipArchive {
  private constructor(
    readonly file: string,
    private readonly zip: ZipFile,
    private readonly entries: ReadonlyMap<string, Entry>,
    /** Every entry's name, in the central directory's order. */
    readonly names: readonly string[],
    /** Names that occur more than once (a reader would not know which is meant). */
    private readonly duplicates: ReadonlySet<string>,
  ) {}

  /**
   * Opens `file` and reads its central directory (at most `maxEntries` entries), refusing an
   * archive with an entry whose name is absolute or holds `..`, or that is encrypted.
   */
  static async open(file: string, maxEntries: number): Promise<ZipArchive> {
    const zip = await openZip(file, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true });
    if (zip === null) throw new CheckpointFormatError(file, 'is not a zip archive (it does not begin with a local file header, PK\\3\\4)');
    try {
      if (zip.entryCount > maxEntries)
        throw new CheckpointFormatError(file, `holds ${zip.entryCount} entries, more than the ${maxEntries} read from such a file`);
      const { entries, names, duplicates } = await readDirectory(file, zip);
      return new ZipArchive(file, zip, entries, names, duplicates);
    } catch (error) {
      zip.close();
      throw error;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  info(name: string): ZipEntryInfo | null {
    const entry = this.entries.get(name);
    return entry === undefined ? null : { name, uncompressedSize: entry.uncompressedSize, compressedSize: entry.compressedSize };
  }

  /**
   * The entry's bytes, checked against its CRC-32, in one ArrayBuffer of their own. An entry larger
   * than `maxBytes` is refused before anything is read; memory is never taken by the sizes the
   * archive claims, only by bytes as they arrive.
   */
  async read(name: string, maxBytes: number, why: string): Promise<ArrayBuffer> {
    const entry = this.entries.get(name);
    const fail = (problem: string): CheckpointFormatError => new CheckpointFormatError(this.file, `its entry ${shown(name)} ${problem}`);
    if (entry === undefined) throw fail('is missing');
    if (this.duplicates.has(name)) throw fail('occurs more than once, so which one is meant is unknown');
    if (!READABLE_METHODS.has(entry.compressionMethod))
      throw fail(`is compressed with method ${entry.compressionMethod}; only stored and deflated entries are read`);
    if (entry.uncompressedSize > maxBytes) throw fail(`is ${entry.uncompressedSize} bytes, more than the ${maxBytes} read from ${why}`);
    let length = 0;
    let crc = 0;
    let out: Uint8Array | null = null;
    const chunks: Buffer[] = [];
    try {
      const stream = await this.zip.openReadStreamPromise(entry);
      // A stored entry's size has now been checked against the file's (its data lies inside it):
      // room for it is taken at once. A deflated one's is only what the archive claims.
      if (entry.compressionMethod === 0) out = new Uint8Array(entry.uncompressedSize);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (length + chunk.length > entry.uncompressedSize) throw new Error('more bytes than the entry says');
        crc = crc32(chunk, crc);
        if (out === null) chunks.push(chunk);
        else out.set(chunk, length);
        length += chunk.length;
      }
    } catch (error) {
      throw fail(`is damaged: ${zipProblem(error)}`);
    }
    if (length !== entry.uncompressedSize) throw fail(`is damaged: it holds ${length} bytes, not the ${entry.uncompressedSize} the archive says`);
    if (crc >>> 0 !== entry.crc32 >>> 0) throw fail('is damaged: its bytes do not match its CRC-32');
    if (out === null) {
      out = new Uint8Array(length);
      let at = 0;
      for (const chunk of chunks) {
        out.set(chunk, at);
        at += chunk.length;
      }
    }
    return out.buffer as ArrayBuffer;
  }

  /** Closes the archive; its file is closed once no read of it is still going. */
  close(): void {
    this.zip.close();
  }
}

/** Every entry of the central directory, checked: names neither absolute nor climbing (`..`), nothing encrypted. */
async function readDirectory(file: string, zip: ZipFile): Promise<{ entries: Map<string, Entry>; names: string[]; duplicates: Set<string> }> {
  const entries = new Map<string, Entry>();
  const names: string[] = [];
  const duplicates = new Set<string>();
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entryName(entry);
      if (unsafeName(name))
        throw new CheckpointFormatError(
          file,
          `holds an entry named ${shown(name)}, an absolute path or one with ".."; no checkpoint writer makes such an archive, so it is refused (nothing here unpacks entries to paths)`,
        );
      if ((entry.generalPurposeBitFlag & FLAG_ENCRYPTED) !== 0)
        throw new CheckpointFormatError(file, `its entry ${shown(name)} is encrypted; encrypted entries are not read`);
      if (entries.has(name)) duplicates.add(name);
      entries.set(name, entry);
      names.push(name);
    }
  } catch (error) {
    throw error instanceof CheckpointFormatError ? error : new CheckpointFormatError(file, `has a damaged central directory: ${zipProblem(error)}`);
  }
  return { entries, names, duplicates };
}
