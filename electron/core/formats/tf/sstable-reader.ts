// Reads every key/value of a LevelDB-format table (a bundle's `.index`) held in memory: footer,
// index block, each data block with its checked trailer, and the prefix-compressed entries inside
// (tsl/lib/io/format.cc, block.cc, table.cc). Index files are small (a few KiB per hundred
// tensors), so the whole file is parsed at once and keys come out in stored order.
import { crc32c } from '../../base/crc32c.js';
import { CheckpointFormatError } from '../../base/errors.js';
import { ByteReader } from './byte-reader.js';
import { unmaskCrc } from './masked-crc.js';
import { snappyDecompress } from './snappy.js';
import { BLOCK_TRAILER_BYTES, FOOTER_BYTES, FOOTER_HANDLES_BYTES, NO_COMPRESSION, SNAPPY_COMPRESSION, hasTableMagic } from './sstable-format.js';

export interface TableEntry {
  readonly key: string;
  readonly value: Uint8Array;
  /** Where the entry starts: a file offset, or for a compressed block the block's offset. */
  readonly at: number;
}

export interface Table {
  readonly entries: readonly TableEntry[];
  /** The compression of each data block, in file order. */
  readonly dataBlockCompression: readonly ('none' | 'snappy')[];
}

interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function readHandle(reader: ByteReader, what: string): BlockHandle {
  const offset = reader.varintSafe(`${what} offset`);
  const size = reader.varintSafe(`${what} size`);
  return { offset, size };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function readTable(bytes: Uint8Array, file: string): Table {
  const whole = new ByteReader(bytes, file, 0);
  if (bytes.length < FOOTER_BYTES) whole.fail(`is ${bytes.length} bytes, shorter than the ${FOOTER_BYTES}-byte table footer`, 0);
  if (!hasTableMagic(bytes)) whole.fail('does not end with the table magic number db4775248b80fb57: not a TensorFlow checkpoint index', bytes.length - 8);
  const footerStart = bytes.length - FOOTER_BYTES;
  const footer = new ByteReader(bytes.subarray(footerStart, footerStart + FOOTER_HANDLES_BYTES), file, footerStart);
  const metaindex = readHandle(footer, 'metaindex block');
  const index = readHandle(footer, 'index block');

  const readBlock = (handle: BlockHandle, what: string): { contents: Uint8Array; base: number; compression: 'none' | 'snappy' } => {
    // Until a block's checksum holds, its handle is bytes of a damaged or foreign file: not said.
    const end = handle.offset + handle.size + BLOCK_TRAILER_BYTES;
    if (end > footerStart) whole.fail(`${what} runs past the footer (file truncated or damaged)`, footerStart);
    const raw = bytes.subarray(handle.offset, handle.offset + handle.size);
    const typeAt = handle.offset + handle.size;
    const type = bytes[typeAt] as number;
    const trailer = new ByteReader(bytes.subarray(typeAt + 1, typeAt + 5), file, typeAt + 1);
    const stored = unmaskCrc(trailer.fixed32());
    const actual = crc32c(bytes.subarray(handle.offset, typeAt + 1));
    if (stored !== actual) whole.fail(`${what} fails its checksum (file damaged)`, typeAt + 1);
    if (type === NO_COMPRESSION) return { contents: raw, base: handle.offset, compression: 'none' };
    if (type === SNAPPY_COMPRESSION) return { contents: snappyDecompress(raw, file, handle.offset), base: handle.offset, compression: 'snappy' };
    return whole.fail(`${what} at ${handle.offset} has compression type ${type}; only 0 (none) and 1 (Snappy) exist`, typeAt);
  };

  // Prefix compression lets a small block spell very long keys (each sharing all of the previous
  // one); the keys a table may spell in total are capped so that a hostile file cannot exhaust memory.
  const keyBudget = { left: 64 * 1024 * 1024 + 16 * bytes.length };
  readBlock(metaindex, 'metaindex block');
  const indexBlock = readBlock(index, 'index block');
  const entries: TableEntry[] = [];
  const dataBlockCompression: ('none' | 'snappy')[] = [];
  let previousKey: Uint8Array | null = null;
  for (const handleEntry of blockEntries(indexBlock.contents, file, indexBlock.base, indexBlock.compression === 'none', keyBudget)) {
    const handleReader = new ByteReader(handleEntry.value, file, handleEntry.at);
    const handle = readHandle(handleReader, 'data block handle');
    const block = readBlock(handle, 'data block');
    dataBlockCompression.push(block.compression);
    for (const entry of blockEntries(block.contents, file, block.base, block.compression === 'none', keyBudget)) {
      if (previousKey !== null && compareBytes(previousKey, entry.keyBytes) >= 0) {
        whole.fail('keys are not in strictly increasing byte order', entry.at);
      }
      previousKey = entry.keyBytes;
      let key: string;
      try {
        key = utf8.decode(entry.keyBytes);
      } catch {
        return whole.fail('holds a key that is not valid UTF-8', entry.at);
      }
      entries.push({ key, value: entry.value, at: entry.at });
    }
  }
  return { entries, dataBlockCompression };
}

interface RawEntry {
  readonly keyBytes: Uint8Array;
  readonly value: Uint8Array;
  readonly at: number;
}

/**
 * The entries of one block. `exactOffsets` says whether offsets inside `contents` are file offsets
 * (an uncompressed block) or not (a decompressed one: errors then name the block's offset).
 */
function blockEntries(contents: Uint8Array, file: string, base: number, exactOffsets: boolean, keyBudget: { left: number }): RawEntry[] {
  const where = (local: number): number => (exactOffsets ? base + local : base);
  const fail = (problem: string, local: number): never => {
    throw new CheckpointFormatError(file, problem, where(local));
  };
  if (contents.length < 8) fail(`block of ${contents.length} bytes cannot hold a restart point and its count`, 0);
  const restartCount = new ByteReader(contents.subarray(contents.length - 4), file, where(contents.length - 4)).fixed32();
  const maxRestarts = Math.floor((contents.length - 4) / 4);
  if (restartCount === 0 || restartCount > maxRestarts) {
    fail(`block claims ${restartCount} restart points; it has room for 1 to ${maxRestarts}`, contents.length - 4);
  }
  const restartsStart = contents.length - 4 - restartCount * 4;
  const restartReader = new ByteReader(contents.subarray(restartsStart, contents.length - 4), file, where(restartsStart));
  const restarts: number[] = [];
  for (let i = 0; i < restartCount; i++) {
    const restart = restartReader.fixed32();
    const previous = restarts[restarts.length - 1] ?? -1;
    if (restart <= previous || (restart >= restartsStart && restartsStart > 0) || (restartsStart === 0 && restart !== 0)) {
      fail(`restart point ${i} (${restart}) is out of order or outside the block's ${restartsStart} entry bytes`, restartsStart + 4 * i);
    }
    restarts.push(restart);
  }
  const entriesReader = new ByteReader(contents.subarray(0, restartsStart), file, base);
  const out: RawEntry[] = [];
  const starts = new Set<number>();
  const restartSet = new Set(restarts);
  let previous: Uint8Array = new Uint8Array(0);
  // Each pass consumes at least three bytes, so the loop ends within the block's length.
  while (!entriesReader.atEnd()) {
    const start = entriesReader.position;
    const shared = entriesReader.varint32();
    const nonShared = entriesReader.varint32();
    const valueLength = entriesReader.varint32();
    if (shared > previous.length) fail(`entry shares ${shared} key bytes with a previous key of ${previous.length}`, start);
    if (restartSet.has(start) && shared !== 0) fail('entry at a restart point shares bytes with the previous key', start);
    if (nonShared > entriesReader.remaining) fail(`key claims ${nonShared} bytes but only ${entriesReader.remaining} remain in the block`, start);
    const delta = entriesReader.take(nonShared, 'key');
    if (valueLength > entriesReader.remaining) fail(`value claims ${valueLength} bytes but only ${entriesReader.remaining} remain in the block`, start);
    const value = entriesReader.take(valueLength, 'value');
    keyBudget.left -= shared + nonShared;
    if (keyBudget.left < 0) fail('keys add up to more bytes than any real index spells (prefix compression abused)', start);
    const key = new Uint8Array(shared + nonShared);
    key.set(previous.subarray(0, shared), 0);
    key.set(delta, shared);
    out.push({ keyBytes: key, value, at: where(start) });
    starts.add(start);
    previous = key;
  }
  for (const restart of restarts) {
    if (out.length > 0 && !starts.has(restart)) fail(`restart point ${restart} is not the start of an entry`, restart);
  }
  return out;
}
