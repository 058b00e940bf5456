// The hparams plugin's session record: `hp.hparams(...)` (or Keras' hparams callback) writes a
// summary tagged `_hparams_/session_start_info` whose metadata's plugin content is an
// HParamsPluginData holding a SessionStartInfo: the run's hyper-parameters as a map of
// google.protobuf.Value (tensorboard/plugins/hparams/plugin_data.proto, metadata.py). That map
// becomes the run's configuration. The experiment and session-end records say nothing about one
// run's configuration and are passed over.
import { HPARAMS_PLUGIN_DATA, MAP_ENTRY, PROTOBUF_VALUE, SESSION_START_INFO, WIRE } from './event-protos.js';
import { ProtoCursor } from './proto-cursor.js';

export type HparamValue = number | string | boolean;

export interface SessionStart {
  /** Each hyper-parameter's value, by name. */
  readonly hparams: Readonly<Record<string, HparamValue>>;
  /** Hyper-parameters whose value is none of those (null, a list, a struct): named, not read. */
  readonly unread: readonly string[];
  readonly groupName: string;
  readonly modelUri: string;
  /** `start_time_secs`, Unix seconds; null when not written. */
  readonly startTime: number | null;
}

/** A google.protobuf.Value as one of ours, or null for the kinds a hyper-parameter here cannot be. */
function valueOf(c: ProtoCursor): HparamValue | null {
  let value: HparamValue | null = null;
  while (c.next()) {
    if (c.field === PROTOBUF_VALUE.numberValue && c.wire === WIRE.fixed64) value = c.double();
    else if (c.field === PROTOBUF_VALUE.stringValue && c.wire === WIRE.bytes) value = c.text();
    else if (c.field === PROTOBUF_VALUE.boolValue && c.wire === WIRE.varint) value = c.varint() !== 0;
    else {
      // null_value, struct_value, list_value: the oneof's last field wins, so a later kind clears an earlier one.
      if (c.field >= PROTOBUF_VALUE.nullValue && c.field <= PROTOBUF_VALUE.listValue) value = null;
      c.skip();
    }
  }
  return value;
}

function readHparam(c: ProtoCursor, into: Map<string, HparamValue | null>): void {
  let key = '';
  let value: HparamValue | null = null;
  while (c.next()) {
    if (c.field === MAP_ENTRY.key && c.wire === WIRE.bytes) key = c.text();
    else if (c.field === MAP_ENTRY.value && c.wire === WIRE.bytes) value = valueOf(c.enter());
    else c.skip();
  }
  // A map's later entry for a key replaces the earlier one, as protobuf parsers do.
  into.set(key, value);
}

function readSessionStart(c: ProtoCursor): SessionStart {
  const entries = new Map<string, HparamValue | null>();
  let groupName = '';
  let modelUri = '';
  let startTime: number | null = null;
  while (c.next()) {
    if (c.field === SESSION_START_INFO.hparams && c.wire === WIRE.bytes) readHparam(c.enter(), entries);
    else if (c.field === SESSION_START_INFO.groupName && c.wire === WIRE.bytes) groupName = c.text();
    else if (c.field === SESSION_START_INFO.modelUri && c.wire === WIRE.bytes) modelUri = c.text();
    else if (c.field === SESSION_START_INFO.startTimeSecs && c.wire === WIRE.fixed64) startTime = c.double();
    else c.skip();
  }
  const hparams: Record<string, HparamValue> = {};
  const unread: string[] = [];
  for (const [name, value] of entries) {
    if (value === null) unread.push(name);
    // defineProperty: a hyper-parameter named "__proto__" is a name like any other.
    else Object.defineProperty(hparams, name, { value, enumerable: true, writable: false });
  }
  return { hparams, unread, groupName, modelUri, startTime };
}

/** The SessionStartInfo an hparams summary's plugin content holds, or null when it holds another kind. */
export function sessionStartOf(buf: Buffer, start: number, end: number): SessionStart | null {
  const c = new ProtoCursor(buf, start, end);
  let found: SessionStart | null = null;
  while (c.next()) {
    if (c.field === HPARAMS_PLUGIN_DATA.sessionStartInfo && c.wire === WIRE.bytes) found = readSessionStart(c.enter());
    else {
      if (c.field === HPARAMS_PLUGIN_DATA.experiment || c.field === HPARAMS_PLUGIN_DATA.sessionEndInfo) found = null;
      c.skip();
    }
  }
  return found;
}
