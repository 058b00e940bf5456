// A protobuf wire-format cursor for the hot path of event files: plain numbers and index ranges
// into one buffer, no allocation per field. formats/tf/protobuf-wire.ts's `wireFields` makes a
// bigint and an object per field and a sub-reader per nested message, which is right for a
// tensor bundle's few small messages and too slow for the millions of fields of a run's event
// files (measured: several times the cost of the whole framing and CRC work per record).
import { WIRE } from './event-protos.js';

/** Bytes that are not the message they should be; `at` is an index into the cursor's buffer. */
export class WireError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const TWO_32 = 2 ** 32;

export class ProtoCursor {
  /** The current field's number and wire type, after `next()`. */
  field = 0;
  wire = 0;
  /** For a length-delimited field: where its bytes are, after `next()`. */
  start = 0;
  end = 0;

  constructor(
    readonly buf: Buffer,
    public pos: number,
    /** Where the message being read ends (exclusive). */
    public limit: number,
  ) {}

  /** Moves to the next field of the message; false at its end. Length-delimited fields are not entered. */
  next(): boolean {
    if (this.pos >= this.limit) return false;
    const at = this.pos;
    const key = this.varint32();
    this.field = key >>> 3;
    this.wire = key & 7;
    if (this.field === 0) throw new WireError('a field numbered 0, which no message has', at);
    if (this.wire === WIRE.bytes) {
      const length = this.varint32();
      if (length > this.limit - this.pos) throw new WireError(`field ${this.field} claims ${length} bytes but only ${this.limit - this.pos} remain`, at);
      this.start = this.pos;
      this.end = this.pos + length;
    }
    return true;
  }

  /** Steps over the current field's value (a length-delimited one: over its bytes). */
  skip(): void {
    switch (this.wire) {
      case WIRE.varint:
        this.varint();
        return;
      case WIRE.fixed64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE.bytes:
        this.pos = this.end;
        return;
      case WIRE.fixed32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new WireError(`field ${this.field} has wire type ${this.wire}, which no field of these messages uses`, this.pos);
    }
  }

  /** A varint that fits 32 bits (keys, lengths, enums). */
  varint32(): number {
    let byte = this.byte();
    if (byte < 0x80) return byte;
    let value = byte & 0x7f;
    for (let shift = 7; shift < 35; shift += 7) {
      byte = this.byte();
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        if (value >= TWO_32) throw new WireError('a varint32 larger than 2^32-1', this.pos - 1);
        return value;
      }
    }
    throw new WireError('a varint32 longer than 5 bytes', this.pos - 1);
  }

  /** An int64 varint as a number: exact within ±2^53; a negative one is ten bytes of two's complement. */
  varint(): number {
    const begin = this.pos;
    // Most steps fit three bytes: read those without the general loop's multiplications.
    const buf = this.buf;
    if (begin + 3 <= this.limit) {
      const b0 = buf[begin] as number;
      if (b0 < 0x80) return ((this.pos = begin + 1), b0);
      const b1 = buf[begin + 1] as number;
      if (b1 < 0x80) return ((this.pos = begin + 2), (b0 & 0x7f) | (b1 << 7));
      const b2 = buf[begin + 2] as number;
      if (b2 < 0x80) return ((this.pos = begin + 3), (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14));
    }
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const byte = this.byte();
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return shift < 63 ? value : this.signedVarint(begin);
    }
    throw new WireError('a varint longer than 10 bytes', begin);
  }

  /** The rare ten-byte varint, exactly, as int64. */
  private signedVarint(begin: number): number {
    let value = 0n;
    for (let i = begin; i < this.pos; i += 1) value |= BigInt((this.buf[i] as number) & 0x7f) << BigInt(7 * (i - begin));
    return Number(BigInt.asIntN(64, value));
  }

  double(): number {
    this.need(8);
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  float(): number {
    this.need(4);
    const value = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return value;
  }

  /** The current length-delimited field as UTF-8 text. */
  text(): string {
    const value = this.buf.toString('utf8', this.start, this.end);
    this.pos = this.end;
    return value;
  }

  /** A cursor over the current length-delimited field, as a message; this one moves past it. */
  enter(): ProtoCursor {
    const inner = new ProtoCursor(this.buf, this.start, this.end);
    this.pos = this.end;
    return inner;
  }

  private byte(): number {
    if (this.pos >= this.limit) throw new WireError('the message ends inside a varint', this.pos);
    return this.buf[this.pos++] as number;
  }

  private need(bytes: number): void {
    if (this.limit - this.pos < bytes) throw new WireError(`the message ends where ${bytes} more bytes were expected`, this.pos);
  }
}
