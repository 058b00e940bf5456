// Writes a LevelDB-format table the way TensorFlow's TableBuilder does (tsl/lib/io/table_builder.cc,
// block_builder.cc) with the options BundleWriter passes (tensor_bundle.cc: default table::Options,
// no compression): 256 KiB data blocks, a restart every 16 keys, an index block with a restart at
// every entry whose keys are shortened separators, an empty metaindex block, and the footer.
import { crc32c } from '../../base/crc32c.js';
import { maskCrc } from './masked-crc.js';
import { FOOTER_HANDLES_BYTES, NO_COMPRESSION, TABLE_MAGIC } from './sstable-format.js';
import { WireWriter } from './protobuf-wire.js';

/** table_options.h: block_size = 262144, block_restart_interval = 16. */
export const TABLE_BLOCK_SIZE = 262144;
export const BLOCK_RESTART_INTERVAL = 16;

class BlockBuilder {
  private parts: Uint8Array[] = [];
  private size = 0;
  private restarts: number[] = [0];
  private counter = 0;
  private lastKey: Uint8Array = new Uint8Array(0);

  constructor(private readonly restartInterval: number) {}

  get empty(): boolean {
    return this.size === 0;
  }

  /** block_builder.cc CurrentSizeEstimate: entries, restart array, restart count. */
  get sizeEstimate(): number {
    return this.size + this.restarts.length * 4 + 4;
  }

  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.counter < this.restartInterval) {
      const limit = Math.min(this.lastKey.length, key.length);
      while (shared < limit && this.lastKey[shared] === key[shared]) shared++;
    } else {
      this.restarts.push(this.size);
      this.counter = 0;
    }
    const header = new WireWriter()
      .varint(shared)
      .varint(key.length - shared)
      .varint(value.length)
      .finish();
    this.push(header);
    this.push(key.subarray(shared));
    this.push(value);
    this.lastKey = key;
    this.counter++;
  }

  finish(): Uint8Array {
    const tail = Buffer.alloc(this.restarts.length * 4 + 4);
    this.restarts.forEach((restart, i) => tail.writeUInt32LE(restart, i * 4));
    tail.writeUInt32LE(this.restarts.length, this.restarts.length * 4);
    const out = Buffer.concat([...this.parts, tail]);
    this.parts = [];
    this.size = 0;
    this.restarts = [0];
    this.counter = 0;
    this.lastKey = new Uint8Array(0);
    return out;
  }

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.size += bytes.length;
  }
}

/** The shortest key ≥ `start` and < `limit` that shares a prefix with `start` (table_builder.cc). */
export function shortestSeparator(start: Uint8Array, limit: Uint8Array): Uint8Array {
  const min = Math.min(start.length, limit.length);
  let diff = 0;
  while (diff < min && start[diff] === limit[diff]) diff++;
  if (diff >= min) return start;
  const byte = start[diff] as number;
  if (byte < 0xff && byte + 1 < (limit[diff] as number)) {
    const out = start.slice(0, diff + 1);
    out[diff] = byte + 1;
    return out;
  }
  return start;
}

/** The shortest key ≥ `key` (table_builder.cc FindShortSuccessor). */
export function shortSuccessor(key: Uint8Array): Uint8Array {
  for (let i = 0; i < key.length; i++) {
    if (key[i] !== 0xff) {
      const out = key.slice(0, i + 1);
      out[i] = (key[i] as number) + 1;
      return out;
    }
  }
  return key;
}

function handle(offset: number, size: number): Uint8Array {
  return new WireWriter().varint(offset).varint(size).finish();
}

/** The table's bytes for entries given in strictly increasing byte order of their keys. */
export function buildTable(entries: readonly { readonly key: Uint8Array; readonly value: Uint8Array }[]): Uint8Array {
  const out: Uint8Array[] = [];
  let offset = 0;
  const writeBlock = (contents: Uint8Array): Uint8Array => {
    const trailer = Buffer.alloc(5);
    trailer[0] = NO_COMPRESSION;
    trailer.writeUInt32LE(maskCrc(crc32c(trailer.subarray(0, 1), crc32c(contents))), 1);
    out.push(contents, trailer);
    const written = handle(offset, contents.length);
    offset += contents.length + trailer.length;
    return written;
  };
  const data = new BlockBuilder(BLOCK_RESTART_INTERVAL);
  const index = new BlockBuilder(1);
  let lastKey: Uint8Array | null = null;
  let pendingHandle: Uint8Array | null = null;
  for (const { key, value } of entries) {
    if (lastKey !== null && key.length + value.length >= 2 * TABLE_BLOCK_SIZE && !data.empty) {
      pendingHandle = writeBlock(data.finish());
    }
    if (pendingHandle !== null && lastKey !== null) {
      index.add(shortestSeparator(lastKey, key), pendingHandle);
      pendingHandle = null;
    }
    lastKey = key;
    data.add(key, value);
    if (data.sizeEstimate >= TABLE_BLOCK_SIZE) pendingHandle = writeBlock(data.finish());
  }
  if (!data.empty) pendingHandle = writeBlock(data.finish());
  const metaindexHandle = writeBlock(new BlockBuilder(BLOCK_RESTART_INTERVAL).finish());
  if (pendingHandle !== null && lastKey !== null) index.add(shortSuccessor(lastKey), pendingHandle);
  const indexHandle = writeBlock(index.finish());
  const footer = new Uint8Array(FOOTER_HANDLES_BYTES + TABLE_MAGIC.length);
  footer.set(metaindexHandle, 0);
  footer.set(indexHandle, metaindexHandle.length);
  footer.set(TABLE_MAGIC, FOOTER_HANDLES_BYTES);
  out.push(footer);
  return Buffer.concat(out);
}
