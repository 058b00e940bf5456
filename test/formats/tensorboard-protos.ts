// The independent decoder of the TensorBoard tests: protobufjs, given the message definitions of
// TensorFlow's and TensorBoard's .proto files (transcribed from tensorflow/core/util/event.proto,
// tensorflow/core/framework/{summary,tensor,tensor_shape,types}.proto,
// tensorboard/plugins/hparams/plugin_data.proto and google/protobuf/struct.proto, trimmed to what
// event files hold), and a TFRecord framing reader of its own. Nothing here imports our reader.
import protobuf from 'protobufjs';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

const TENSORFLOW_PROTOS = `
syntax = "proto3";
package tensorflow;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
    LogMessage log_message = 6;
    SessionLog session_log = 7;
    TaggedRunMetadata tagged_run_metadata = 8;
    bytes meta_graph_def = 9;
  }
}
message LogMessage { int32 level = 1; string message = 2; }
message SessionLog { int32 status = 1; string checkpoint_path = 2; string msg = 3; }
message TaggedRunMetadata { string tag = 1; bytes run_metadata = 2; }

enum DataClass {
  DATA_CLASS_UNKNOWN = 0;
  DATA_CLASS_SCALAR = 1;
  DATA_CLASS_TENSOR = 2;
  DATA_CLASS_BLOB_SEQUENCE = 3;
}
message SummaryMetadata {
  message PluginData { string plugin_name = 1; bytes content = 2; }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  DataClass data_class = 4;
}
message HistogramProto {
  double min = 1; double max = 2; double num = 3; double sum = 4; double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}
message Summary {
  message Image { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
  message Audio { float sample_rate = 1; int64 num_channels = 2; int64 length_frames = 3; bytes encoded_audio_string = 4; string content_type = 5; }
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      bytes obsolete_old_style_histogram = 3;
      Image image = 4;
      HistogramProto histo = 5;
      Audio audio = 6;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

message TensorShapeProto {
  message Dim { int64 size = 1; string name = 2; }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}
message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated int32 half_val = 13 [packed = true];
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bytes string_val = 8;
  repeated float scomplex_val = 9 [packed = true];
  repeated int64 int64_val = 10 [packed = true];
  repeated bool bool_val = 11 [packed = true];
  repeated double dcomplex_val = 12 [packed = true];
  repeated uint32 uint32_val = 16 [packed = true];
  repeated uint64 uint64_val = 17 [packed = true];
}
`;

const STRUCT_PROTO = `
syntax = "proto3";
package google.protobuf;
message Struct { map<string, Value> fields = 1; }
message Value {
  oneof kind {
    int32 null_value = 1;
    double number_value = 2;
    string string_value = 3;
    bool bool_value = 4;
    Struct struct_value = 5;
    ListValue list_value = 6;
  }
}
message ListValue { repeated Value values = 1; }
`;

const HPARAMS_PROTO = `
syntax = "proto3";
package tensorboard.hparams;
message HParamsPluginData {
  int32 version = 1;
  oneof data {
    bytes experiment = 2;
    SessionStartInfo session_start_info = 3;
    bytes session_end_info = 4;
  }
}
message SessionStartInfo {
  map<string, google.protobuf.Value> hparams = 1;
  string model_uri = 2;
  string monitor_url = 3;
  string group_name = 4;
  double start_time_secs = 5;
}
`;

const root = new protobuf.Root();
protobuf.parse(TENSORFLOW_PROTOS, root, { keepCase: true });
protobuf.parse(STRUCT_PROTO, root, { keepCase: true });
protobuf.parse(HPARAMS_PROTO, root, { keepCase: true });

export const EventType = root.lookupType('tensorflow.Event');
export const SummaryType = root.lookupType('tensorflow.Summary');
export const PluginDataType = root.lookupType('tensorboard.hparams.HParamsPluginData');

/** The plain-object form protobufjs decodes to: int64 as numbers, bytes as Buffers, defaults filled in. */
export function eventObject(bytes: Uint8Array): Record<string, unknown> {
  return EventType.toObject(EventType.decode(bytes), { longs: Number, bytes: Buffer, defaults: false, oneofs: true }) as Record<string, unknown>;
}

// tensorflow/core/lib/hash/crc32c.h: kMaskDelta, and the rotate-then-add mask.
function masked(bytes: Uint8Array): number {
  const crc = nativeCrc32c(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Every record of a whole TFRecord file (record_writer.cc's framing), each CRC checked; throws on anything else. */
export function tfRecords(file: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let at = 0;
  while (at < file.length) {
    if (file.length - at < 12) throw new Error(`a record header cut short at byte ${at}`);
    const header = file.subarray(at, at + 8);
    if (masked(header) !== file.readUInt32LE(at + 8)) throw new Error(`bad length CRC at byte ${at}`);
    const length = Number(file.readBigUInt64LE(at));
    if (at + 12 + length + 4 > file.length) throw new Error(`a record cut short at byte ${at}`);
    const data = file.subarray(at + 12, at + 12 + length);
    if (masked(data) !== file.readUInt32LE(at + 12 + length)) throw new Error(`bad data CRC at byte ${at}`);
    records.push(data);
    at += 12 + length + 4;
  }
  return records;
}

/** A record header alone: a length (any, even one no file could hold) and the masked CRC of its 8 bytes. */
export function recordHeader(length: bigint): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(length);
  header.writeUInt32LE(masked(header.subarray(0, 8)), 8);
  return header;
}

/** The framing of one record, as record_writer.cc writes it: for building test files by hand. */
export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(8);
  header.writeBigUInt64LE(BigInt(data.length));
  const crcs = Buffer.alloc(8);
  crcs.writeUInt32LE(masked(header), 0);
  crcs.writeUInt32LE(masked(data), 4);
  return Buffer.concat([header, crcs.subarray(0, 4), data, crcs.subarray(4)]);
}

/** An Event encoded by protobufjs from a plain object (`{ wall_time, step, summary: { value: [...] } }`), framed as a record. */
export function eventRecord(event: Record<string, unknown>): Buffer {
  const message = EventType.fromObject(event);
  const problem = EventType.verify(message);
  if (problem) throw new Error(`not an Event: ${problem}`);
  return tfRecord(EventType.encode(message).finish());
}

/** The HParamsPluginData bytes of a session start with these hyper-parameters (google.protobuf.Value objects). */
export function sessionStartContent(hparams: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}): Uint8Array {
  return PluginDataType.encode(PluginDataType.fromObject({ version: 0, session_start_info: { hparams, ...extra } })).finish();
}
