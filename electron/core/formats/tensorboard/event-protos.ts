// Field numbers of the protocol buffers an event file holds, each from its .proto file. Only the
// fields we read or write are named; everything else is skipped by its wire type.

/** tensorflow/core/util/event.proto `Event` (its `what` is a oneof of fields 3–9). */
export const EVENT = {
  wallTime: 1, // double
  step: 2, // int64
  fileVersion: 3, // string, "brain.Event:2"
  graphDef: 4, // bytes
  summary: 5, // Summary
  logMessage: 6, // LogMessage (deprecated)
  sessionLog: 7, // SessionLog
  taggedRunMetadata: 8, // TaggedRunMetadata
  metaGraphDef: 9, // bytes
} as const;

/** The `file_version` TensorFlow's EventsWriter writes first (core/util/events_writer.cc, kVersionPrefix + 2). */
export const FILE_VERSION = 'brain.Event:2';

/** tensorflow/core/framework/summary.proto `Summary` */
export const SUMMARY = { value: 1 } as const;

/** summary.proto `Summary.Value`; fields 2–6 and 8 are its `value` oneof. */
export const SUMMARY_VALUE = {
  tag: 1,
  simpleValue: 2, // float: TF1's scalars
  obsoleteOldStyleHistogram: 3,
  image: 4,
  histo: 5,
  audio: 6,
  nodeName: 7,
  tensor: 8, // TensorProto: TF2's summaries of every kind
  metadata: 9, // SummaryMetadata
} as const;

/** summary.proto `SummaryMetadata` and its `PluginData` */
export const SUMMARY_METADATA = { pluginData: 1, displayName: 2, summaryDescription: 3, dataClass: 4 } as const;
export const PLUGIN_DATA = { pluginName: 1, content: 2 } as const;

/** tensorflow/core/framework/tensor.proto `TensorProto`; the `*_val` fields are packed repeated. */
export const TENSOR = {
  dtype: 1,
  tensorShape: 2,
  versionNumber: 3,
  tensorContent: 4,
  floatVal: 5,
  doubleVal: 6,
  intVal: 7,
  stringVal: 8,
  int64Val: 10,
  boolVal: 11,
  halfVal: 13, // DT_HALF and DT_BFLOAT16, one 16-bit pattern per int32
  uint32Val: 16,
  uint64Val: 17,
} as const;

/** tensorflow/core/framework/tensor_shape.proto `TensorShapeProto` */
export const TENSOR_SHAPE = { dim: 2, unknownRank: 3 } as const;

/** tensorflow/core/framework/types.proto `DataType`: the numeric ones a scalar summary may hold. */
export const DT = {
  FLOAT: 1,
  DOUBLE: 2,
  INT32: 3,
  UINT8: 4,
  INT16: 5,
  INT8: 6,
  INT64: 9,
  BFLOAT16: 14,
  UINT16: 17,
  HALF: 19,
  UINT32: 22,
  UINT64: 23,
} as const;

/** tensorboard/plugins/hparams/plugin_data.proto `HParamsPluginData` (its `data` is a oneof of 2–4) and `SessionStartInfo` */
export const HPARAMS_PLUGIN_DATA = { version: 1, experiment: 2, sessionStartInfo: 3, sessionEndInfo: 4 } as const;
export const SESSION_START_INFO = { hparams: 1, modelUri: 2, monitorUrl: 3, groupName: 4, startTimeSecs: 5 } as const;

/** A protobuf map field is a repeated message of these two (protobuf.dev, "Maps": backwards compatibility). */
export const MAP_ENTRY = { key: 1, value: 2 } as const;

/** google/protobuf/struct.proto `Value` (its `kind` is a oneof of all six) */
export const PROTOBUF_VALUE = { nullValue: 1, numberValue: 2, stringValue: 3, boolValue: 4, structValue: 5, listValue: 6 } as const;

/** Plugin names (tensorboard/plugins/<name>/metadata.py PLUGIN_NAME) this reader treats by name. */
export const PLUGIN = {
  scalars: 'scalars',
  hparams: 'hparams',
  images: 'images',
  audio: 'audio',
  histograms: 'histograms',
  text: 'text',
} as const;

/** The wire types protobuf uses (protobuf.dev/programming-guides/encoding); 3 and 4 are the long-deprecated groups. */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;
