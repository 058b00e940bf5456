// Reading a run's history as columns: the blocks of metrics.columns that still match
// metrics.jsonl, then the log's lines past them. Where allowed (a writable workspace, no live
// trainer on the run), a missing, stale or damaged file is (re)built from the log, or a long
// unblocked tail appended, so the next read is a read of columns. Reading never needs to write.
import { open, readFile, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { crc32c } from '../base/crc32c.js';
import { writeFileAtomic, writeFileDurably } from '../base/durable-fs.js';
import { errorMessage } from '../base/errors.js';
import { isMissing } from '../base/regular-file.js';
import { METRICS_FILE } from './layout.js';
import { BLOCK_ROWS, type Block, COLUMNS_FILE, type Table, decodeBlocks, decodeColumns, encodeBlock, encodeFileHeader } from './metric-columns.js';
import { RowGatherer } from './metric-rows.js';
import { liveLockHolder } from './run-lock.js';

const READ_CHUNK = 4 << 20;
const NEWLINE = 0x0a;

/**
 * Reads the log's whole lines from `start` to its end. Every `BLOCK_ROWS` rows, when `onBlock` is
 * given, the rows gathered so far become a block (and are cleared); the rest stay in the gatherer.
 */
export async function gatherLog(log: string, start: number, onBlock?: (block: Buffer) => void): Promise<RowGatherer> {
  const gatherer = new RowGatherer(start);
  let handle;
  try {
    handle = await open(log, 'r');
  } catch (error) {
    if (isMissing(error)) return gatherer;
    throw error;
  }
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    let carry: Buffer = Buffer.alloc(0);
    let position = start;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, READ_CHUNK, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const data = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
      let from = 0;
      for (let newline = data.indexOf(NEWLINE, from); newline >= 0; newline = data.indexOf(NEWLINE, from)) {
        const line = data.subarray(from, newline);
        gatherer.take(line.toString('utf8'), newline + 1 - from, line);
        from = newline + 1;
        if (onBlock && gatherer.rows >= BLOCK_ROWS) {
          onBlock(encodeBlock([gatherer.train, gatherer.validation], gatherer.end, gatherer.lastLineCrc));
          gatherer.clear();
        }
      }
      // A torn last line (no newline yet) waits for the next read.
      carry = Buffer.from(data.subarray(from));
    }
    return gatherer;
  } finally {
    await handle.close();
  }
}

/** Whether the log still holds, just before `end`, a line whose CRC-32C is `crc`. */
async function logMatches(log: string, end: number, crc: number): Promise<boolean> {
  if (end === 0) return true;
  let handle;
  try {
    handle = await open(log, 'r');
  } catch {
    return false;
  }
  try {
    if ((await handle.stat()).size < end) return false;
    // A line is a few hundred bytes: a small window holds it, a larger one is read only for a longer line.
    for (let window = Math.min(end, 4096); ; window = Math.min(end, window * 16)) {
      const buffer = Buffer.alloc(window);
      await handle.read(buffer, 0, window, end - window);
      if (buffer[window - 1] !== NEWLINE) return false;
      const previous = buffer.lastIndexOf(NEWLINE, window - 2);
      if (previous >= 0 || window === end) return crc32c(buffer.subarray(previous + 1, window - 1)) === crc;
      if (window >= 1 << 24) return false;
    }
  } finally {
    await handle.close();
  }
}

export interface RunColumns {
  /** Per kind, in log order: the blocks' tables, then the tail's. */
  readonly tables: readonly Table[];
  /** Where the rows came from: all from the log, or from columns (and a tail of the log). */
  readonly source: 'columns' | 'log';
  /** Why the columns file could not be used, naming it; null when it could (or was absent). */
  readonly problem: string | null;
}

interface CachedFile {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly blocks: readonly Block[];
  readonly validBytes: number;
}

/** Decoded files by path: a zoom reads the same run again, and the file grows a block at a time. */
const decoded = new Map<string, CachedFile>();
const CACHED_FILES = 16;

async function readFrom(file: string, start: number, end: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const bytes = Buffer.alloc(end - start);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, start);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The file's blocks. One that only grew since it was last read (the same file, every byte then
 * a whole block: a trainer appending) has only its new blocks read and decoded.
 */
async function readColumnsFile(file: string): Promise<CachedFile | null> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  const cached = decoded.get(file);
  if (cached && cached.size === info.size && cached.mtimeMs === info.mtimeMs && cached.ino === info.ino) return cached;
  let entry: CachedFile;
  if (cached && cached.ino === info.ino && cached.validBytes === cached.size && info.size > cached.size) {
    const added = decodeBlocks(file, await readFrom(file, cached.size, info.size), cached.size);
    entry = { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, blocks: [...cached.blocks, ...added.blocks], validBytes: cached.size + added.validBytes };
  } else {
    const { blocks, validBytes } = decodeColumns(file, await readFile(file));
    entry = { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, blocks, validBytes };
  }
  decoded.delete(file);
  decoded.set(file, entry);
  for (const key of decoded.keys()) if (decoded.size > CACHED_FILES) decoded.delete(key);
  return entry;
}

export interface ReadColumnsOptions {
  /** The columns file may be created or extended (the workspace is writable). */
  readonly write: boolean;
  /** Where the columns file lives; the run's folder by default. */
  readonly columnsFile?: string;
}

/** The blocks of the file that still match the log; a problem names the file when none can be used. */
async function usableBlocks(file: string, log: string): Promise<{ found: CachedFile | null; problem: string | null }> {
  try {
    const found = await readColumnsFile(file);
    const last = found?.blocks.at(-1);
    if (found && last && !(await logMatches(log, last.jsonlEnd, last.lastLineCrc))) {
      return { found: null, problem: `${file}: stale (${METRICS_FILE} no longer holds what it was built from); read from ${METRICS_FILE}` };
    }
    return { found, problem: null };
  } catch (error) {
    return { found: null, problem: `${errorMessage(error)}; read from ${METRICS_FILE} instead` };
  }
}

/** The run's history as tables of columns: its metrics.columns as far as it matches metrics.jsonl, then the log. */
export async function readRunColumns(runDir: string, options: ReadColumnsOptions): Promise<RunColumns> {
  const file = options.columnsFile ?? path.join(runDir, COLUMNS_FILE);
  const log = path.join(runDir, METRICS_FILE);
  const { found, problem } = await usableBlocks(file, log);
  const blocks = found?.blocks ?? [];
  const start = blocks.at(-1)?.jsonlEnd ?? 0;
  // A live trainer appends its own blocks: a second writer would interleave with them.
  const writable = options.write && (await liveLockHolder(runDir)) === null;
  const tail = await gatherLog(log, start);
  const rebuild = found === null && (tail.rows > 0 || problem !== null);
  if (writable && (rebuild || tail.rows >= BLOCK_ROWS)) {
    try {
      const built = rebuild ? await buildColumnsFile(file, log) : await extendColumnsFile(file, log, found as CachedFile, start);
      return { tables: built.flatMap((b) => b.tables), source: 'columns', problem };
    } catch {
      // Not writable after all (a read-only folder, a full disk): the log answers as it is.
    }
  }
  return { tables: [...blocks.flatMap((b) => b.tables), ...tail.tables()], source: blocks.length > 0 ? 'columns' : 'log', problem };
}

function blocksFrom(chunks: readonly Buffer[], file: string): readonly Block[] {
  return decodeColumns(file, Buffer.concat([encodeFileHeader(), ...chunks])).blocks;
}

/** Writes the whole file anew from the log, atomically; answers its blocks. */
export async function buildColumnsFile(file: string, log: string): Promise<readonly Block[]> {
  const chunks: Buffer[] = [];
  const rest = await gatherLog(log, 0, (block) => chunks.push(block));
  if (rest.rows > 0 || chunks.length === 0) chunks.push(encodeBlock([rest.train, rest.validation], rest.end, rest.lastLineCrc));
  await writeFileAtomic(file, Buffer.concat([encodeFileHeader(), ...chunks]));
  decoded.delete(file);
  return blocksFrom(chunks, file);
}

/** Appends blocks for the log's lines past `start` (cutting a torn block first); answers every block. */
async function extendColumnsFile(file: string, log: string, found: CachedFile, start: number): Promise<readonly Block[]> {
  const chunks: Buffer[] = [];
  const rest = await gatherLog(log, start, (block) => chunks.push(block));
  if (rest.rows > 0) chunks.push(encodeBlock([rest.train, rest.validation], rest.end, rest.lastLineCrc));
  if (found.validBytes < found.size) await truncate(file, found.validBytes);
  await writeFileDurably(file, chunks, 'a');
  decoded.delete(file);
  return [...found.blocks, ...blocksFrom(chunks, file)];
}
