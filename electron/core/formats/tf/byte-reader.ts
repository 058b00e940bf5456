// A bounded cursor over bytes that came from a file. Every read is checked against the end of its
// slice, and every failure names the file and the absolute byte offset, so hostile input ends in a
// CheckpointFormatError and never in a RangeError or a huge allocation.
import { CheckpointFormatError } from '../../base/errors.js';

export class ByteReader {
  private pos = 0;

  /**
   * @param bytes the slice to read
   * @param file the file the slice came from, for errors
   * @param fileOffset where `bytes[0]` sits in that file (for Snappy-decompressed blocks: the block's own offset)
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    readonly fileOffset: number,
  ) {}

  get position(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** The file offset of the cursor (or of `at` within the slice). */
  offsetOf(at = this.pos): number {
    return this.fileOffset + at;
  }

  fail(problem: string, at = this.pos): never {
    throw new CheckpointFormatError(this.file, problem, this.offsetOf(at));
  }

  u8(): number {
    if (this.pos >= this.bytes.length) this.fail('ends where another byte was expected');
    return this.bytes[this.pos++] as number;
  }

  fixed32(): number {
    if (this.remaining < 4) this.fail(`ends where a 4-byte number was expected (${this.remaining} bytes left)`);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0;
  }

  fixed64(): bigint {
    const low = BigInt(this.fixed32());
    const high = BigInt(this.fixed32());
    return (high << 32n) | low;
  }

  /** A base-128 varint of at most `maxBytes` bytes (5 for varint32, 10 for varint64), as a bigint. */
  varintBig(maxBytes = 10): bigint {
    const start = this.pos;
    // Most values fit 49 bits: add them up as a plain number, and make one bigint at the end.
    let small = 0;
    for (let i = 0; i < Math.min(maxBytes, 7); i++) {
      if (this.pos >= this.bytes.length) this.fail('ends inside a varint', start);
      const byte = this.bytes[this.pos++] as number;
      small += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) {
        if (maxBytes === 5 && small > 0xffffffff) this.fail('holds a varint32 larger than 2^32-1', start);
        return BigInt(small);
      }
    }
    let result = BigInt(small);
    for (let i = 7; i < maxBytes; i++) {
      if (this.pos >= this.bytes.length) this.fail('ends inside a varint', start);
      const byte = this.bytes[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) return result & 0xffffffffffffffffn;
    }
    return this.fail(`holds a varint longer than ${maxBytes} bytes`, start);
  }

  /** A varint32 as a plain number (the hot path of block parsing; no bigint). */
  varint32(): number {
    const start = this.pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.bytes.length) this.fail('ends inside a varint', start);
      const byte = this.bytes[this.pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) this.fail('holds a varint32 larger than 2^32-1', start);
        return result;
      }
    }
    return this.fail('holds a varint32 longer than 5 bytes', start);
  }

  /** A varint64 that must fit a JavaScript safe integer (offsets, sizes, lengths). */
  varintSafe(what: string): number {
    const start = this.pos;
    const value = this.varintBig(10);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is beyond what any file can hold`, start);
    return Number(value);
  }

  /** `length` bytes as a view (no copy). */
  take(length: number, what: string): Uint8Array {
    if (length > this.remaining) this.fail(`${what} claims ${length} bytes but only ${this.remaining} remain`);
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  skip(length: number, what: string): void {
    this.take(length, what);
  }
}
