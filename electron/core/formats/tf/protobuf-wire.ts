// The protobuf wire format (protobuf.dev/programming-guides/encoding), just enough to read and
// write the few small messages a tensor bundle holds. A generated decoder would need .proto files,
// a code generator and a runtime for five messages of a handful of scalar fields each.
import { ByteReader } from './byte-reader.js';

export type WireField =
  | { readonly field: number; readonly wire: 0; readonly varint: bigint; readonly at: number }
  | { readonly field: number; readonly wire: 1; readonly fixed64: bigint; readonly at: number }
  | { readonly field: number; readonly wire: 2; readonly bytes: Uint8Array; readonly at: number }
  | { readonly field: number; readonly wire: 5; readonly fixed32: number; readonly at: number };

/** Every field of one message, in order; unknown fields are returned too (callers skip them). */
export function* wireFields(reader: ByteReader, what: string): Generator<WireField> {
  while (!reader.atEnd()) {
    const at = reader.offsetOf();
    const key = reader.varintBig(10);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0 || field > 536870911) reader.fail(`${what}: field number ${field} is not valid`);
    if (wire === 0) yield { field, wire, varint: reader.varintBig(10), at };
    else if (wire === 1) yield { field, wire, fixed64: reader.fixed64(), at };
    else if (wire === 2) {
      const length = reader.varintSafe(`${what}: length of field ${field}`);
      yield { field, wire, bytes: reader.take(length, `${what}: field ${field}`), at };
    } else if (wire === 5) yield { field, wire, fixed32: reader.fixed32(), at };
    else reader.fail(`${what}: field ${field} has wire type ${wire}, which these messages never use`);
  }
}

/** A nested message's bytes as a reader positioned at its real file offset. */
export function subReader(parent: ByteReader, field: WireField & { wire: 2 }): ByteReader {
  const start = field.bytes.byteOffset - parent.bytes.byteOffset;
  return new ByteReader(field.bytes, parent.file, parent.fileOffset + start);
}

/** int32/int64 fields are two's complement on the wire: a negative value is ten bytes. */
export function signed64(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}

export class WireWriter {
  private chunks: number[] = [];

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
    return this;
  }

  tag(field: number, wire: 0 | 1 | 2 | 5): this {
    return this.varint((field << 3) | wire);
  }

  /** proto3: a scalar equal to its default is not written. */
  varintField(field: number, value: number | bigint): this {
    if (BigInt(value) === 0n) return this;
    return this.tag(field, 0).varint(value);
  }

  fixed32Field(field: number, value: number): this {
    if (value === 0) return this;
    this.tag(field, 5);
    for (let i = 0; i < 4; i++) this.chunks.push((value >>> (8 * i)) & 0xff);
    return this;
  }

  /** A double, little-endian (event files' wall times). */
  doubleField(field: number, value: number): this {
    if (value === 0) return this;
    this.tag(field, 1);
    const bytes = new DataView(new ArrayBuffer(8));
    bytes.setFloat64(0, value, true);
    for (let i = 0; i < 8; i++) this.chunks.push(bytes.getUint8(i));
    return this;
  }

  /** A nested message or string; written even when empty (a set submessage is present in proto3). */
  bytesField(field: number, bytes: Uint8Array): this {
    this.tag(field, 2).varint(bytes.length);
    for (const byte of bytes) this.chunks.push(byte);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}
