// One event file's Event records, decoded into what a run's metrics need: scalar points (TF1's
// `simple_value`, TF2's rank-0 tensors under the `scalars` plugin), the hparams session record,
// and the file version. Everything else (images, histograms, audio, text, graphs, other plugins)
// is passed over by its length, never decoded, and counted by kind.
//
// Like TensorBoard, a tag's plugin is known from the first value that carries metadata: TF1's
// writer (`SummaryToEventTransformer`) strips the metadata of a tag it has written before, and
// TensorBoard keeps a time series' first metadata (data_compat.rs `initial_metadata`).
import { type CanonicalTarget, readCanonicalScalars } from './canonical-scalars.js';
import { EVENT, PLUGIN, PLUGIN_DATA, SUMMARY, SUMMARY_METADATA, SUMMARY_VALUE, WIRE } from './event-protos.js';
import { type SessionStart, sessionStartOf } from './hparams.js';
import { ProtoCursor } from './proto-cursor.js';
import { NotScalar, scalarOfTensor } from './scalar-tensor.js';

export interface ScalarPoint {
  readonly tag: string;
  readonly step: number;
  /** Unix seconds, as the event records it. */
  readonly wallTime: number;
  readonly value: number;
}

/** Something passed over that a person may want to know of, said once per file; `at` is a file offset. */
export interface DecodeNote {
  readonly at: number;
  readonly message: string;
}

/** What the records decoded since the last `take()` held. */
export interface DecodedBatch {
  readonly points: ScalarPoint[];
  sessionStart: SessionStart | null;
  fileVersion: string | null;
  /** How many summaries (or events) of each kind were passed over, by the name TensorBoard's dashboards use. */
  readonly skipped: Map<string, number>;
  readonly notes: DecodeNote[];
}

function emptyBatch(): DecodedBatch {
  return { points: [], sessionStart: null, fileVersion: null, skipped: new Map(), notes: [] };
}

/** Summary.Value's `value` oneof, as far as we tell its members apart. */
const ValueKind = { None: 0, Simple: 1, Tensor: 2, Image: 3, Histogram: 4, Audio: 5 } as const;
type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

const SKIPPED_BY_VALUE_KIND: Readonly<Record<number, string>> = {
  [ValueKind.Image]: 'images',
  [ValueKind.Histogram]: 'histograms',
  [ValueKind.Audio]: 'audio',
};

/** Tensor summaries of these plugins are known kinds: counted, not remarked on. */
const KNOWN_SKIPPED_PLUGINS: ReadonlyMap<string, string> = new Map([
  [PLUGIN.images, 'images'],
  [PLUGIN.audio, 'audio'],
  [PLUGIN.histograms, 'histograms'],
  [PLUGIN.text, 'text'],
  ['graph_keras_model', 'graphs'],
  ['graph_run_metadata', 'graphs'],
  ['graph_run_metadata_graph', 'graphs'],
  ['graph_tagged_run_metadata', 'graphs'],
  [PLUGIN.hparams, 'hparams'],
]);

const SCALARS_BYTES = Buffer.from(PLUGIN.scalars);

/** Texts decoded once and found again by their bytes: a file repeats a few tags thousands of times. */
class InternedText {
  private readonly entries: { readonly bytes: Buffer; readonly text: string }[] = [];

  constructor(private readonly capacity: number) {}

  text(buf: Buffer, start: number, end: number): string {
    const length = end - start;
    for (const entry of this.entries) {
      const bytes = entry.bytes;
      if (bytes.length !== length) continue;
      let i = 0;
      while (i < length && bytes[i] === buf[start + i]) i += 1;
      if (i === length) return entry.text;
    }
    const text = buf.toString('utf8', start, end);
    if (this.entries.length < this.capacity) this.entries.push({ bytes: Buffer.from(buf.subarray(start, end)), text });
    return text;
  }
}

function sameBytes(buf: Buffer, start: number, end: number, bytes: Buffer): boolean {
  if (end - start !== bytes.length) return false;
  for (let i = 0; i < bytes.length; i += 1) if (buf[start + i] !== bytes[i]) return false;
  return true;
}

/** A Summary.Value's fields, as ranges into the record (its payloads are looked at only if needed). */
interface ValueFields {
  tagStart: number;
  tagEnd: number;
  kind: ValueKind;
  simple: number;
  tensorStart: number;
  tensorEnd: number;
  metadataStart: number;
  metadataEnd: number;
}

export class EventDecoder {
  private readonly tags = new InternedText(256);
  private readonly plugins = new InternedText(32);
  private readonly pluginByTag = new Map<string, string>();
  private readonly said = new Set<string>();
  private batch = emptyBatch();
  /** File offset of buffer index 0 for the record being decoded (notes name file offsets). */
  private base = 0;
  private readonly summaryRanges: number[] = [];
  /** The kinds counted as skipped while decoding the current record (taken back if it is not an Event). */
  private readonly counted: string[] = [];
  /** The plugin content range of the value being kept (`pluginOf` sets it). */
  private readonly content: [number, number] = [-1, -1];
  private readonly value: ValueFields = {
    tagStart: 0,
    tagEnd: 0,
    kind: ValueKind.None,
    simple: 0,
    tensorStart: 0,
    tensorEnd: 0,
    metadataStart: -1,
    metadataEnd: -1,
  };

  constructor(private readonly canonicalScalars = true) {}

  /** What the canonical scalar reader (canonical-scalars.ts) needs of this decoder's state. */
  private readonly canonical: CanonicalTarget = {
    tagText: (buf, start, end) => this.tags.text(buf, start, end),
    pluginOf: (tag) => this.pluginByTag.get(tag),
    setPlugin: (tag, plugin) => void this.pluginByTag.set(tag, plugin),
  };

  /** What was decoded since the last call; starts a new batch. */
  take(): DecodedBatch {
    const batch = this.batch;
    this.batch = emptyBatch();
    return batch;
  }

  /** Forgets everything learnt of the file (it was replaced): tags' plugins and what was said. */
  reset(): void {
    this.pluginByTag.clear();
    this.said.clear();
    this.batch = emptyBatch();
  }

  /**
   * Decodes the Event in `buf[start, end)`; `fileOffset` is where `buf[start]` sits in the file.
   * Throws WireError (indices into `buf`) when the bytes are not an Event.
   */
  decode(buf: Buffer, start: number, end: number, fileOffset: number): void {
    if (this.canonicalScalars && readCanonicalScalars(buf, start, end, this.batch.points, this.canonical)) return;
    // A record that turns out not to be an Event keeps nothing it held (a protobuf parser rejects it whole).
    const batch = this.batch;
    const [points, sessionStart, fileVersion] = [batch.points.length, batch.sessionStart, batch.fileVersion];
    this.counted.length = 0;
    try {
      this.decodeEvent(buf, start, end, fileOffset);
    } catch (error) {
      batch.points.length = points;
      [batch.sessionStart, batch.fileVersion] = [sessionStart, fileVersion];
      for (const kind of this.counted) batch.skipped.set(kind, (batch.skipped.get(kind) as number) - 1);
      for (const [kind, count] of batch.skipped) if (count === 0) batch.skipped.delete(kind);
      throw error;
    }
  }

  private decodeEvent(buf: Buffer, start: number, end: number, fileOffset: number): void {
    this.base = fileOffset - start;
    const c = new ProtoCursor(buf, start, end);
    let wallTime = 0;
    let step = 0;
    const summaries = this.summaryRanges;
    let summaryCount = 0;
    // Fields may come in any order: the step and wall time are known before any value is kept.
    while (c.next()) {
      const field = c.field;
      if (field === EVENT.wallTime && c.wire === WIRE.fixed64) wallTime = c.double();
      else if (field === EVENT.step && c.wire === WIRE.varint) step = c.varint();
      else if (field === EVENT.summary && c.wire === WIRE.bytes) {
        summaries[summaryCount++] = c.start;
        summaries[summaryCount++] = c.end;
        c.skip();
      } else {
        if (field === EVENT.fileVersion && c.wire === WIRE.bytes) this.batch.fileVersion = c.text();
        else this.countEventKind(field);
        c.skip();
      }
    }
    if (summaryCount === 0) return;
    if (Number.isNaN(wallTime)) {
      this.sayOnce('nan-wall-time', c.limit, `an event at step ${step} has no valid wall time; such events are skipped, as TensorBoard skips them`);
      return;
    }
    for (let i = 0; i < summaryCount; i += 2) this.decodeSummary(buf, summaries[i] as number, summaries[i + 1] as number, step, wallTime);
  }

  private countEventKind(field: number): void {
    if (field === EVENT.graphDef || field === EVENT.metaGraphDef || field === EVENT.taggedRunMetadata) this.count('graphs');
    else if (field === EVENT.logMessage) this.count('log messages');
    else if (field === EVENT.sessionLog) this.count('session logs');
  }

  private count(kind: string): void {
    this.batch.skipped.set(kind, (this.batch.skipped.get(kind) ?? 0) + 1);
    this.counted.push(kind);
  }

  private sayOnce(key: string, at: number, message: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.batch.notes.push({ at: this.base + at, message });
  }

  private decodeSummary(buf: Buffer, start: number, end: number, step: number, wallTime: number): void {
    const c = new ProtoCursor(buf, start, end);
    while (c.next()) {
      if (c.field === SUMMARY.value && c.wire === WIRE.bytes) {
        const valueStart = c.start;
        this.readValue(new ProtoCursor(buf, c.start, c.end));
        c.skip();
        this.keepValue(buf, valueStart, step, wallTime);
      } else c.skip();
    }
  }

  private readValue(c: ProtoCursor): void {
    const v = this.value;
    v.tagStart = v.tagEnd = 0;
    v.kind = ValueKind.None;
    v.metadataStart = v.metadataEnd = -1;
    while (c.next()) {
      const field = c.field;
      const bytes = c.wire === WIRE.bytes;
      if (field === SUMMARY_VALUE.tag && bytes) {
        v.tagStart = c.start;
        v.tagEnd = c.end;
      } else if (field === SUMMARY_VALUE.simpleValue && c.wire === WIRE.fixed32) {
        v.kind = ValueKind.Simple;
        v.simple = c.float();
        continue;
      } else if (field === SUMMARY_VALUE.tensor && bytes) {
        v.kind = ValueKind.Tensor;
        v.tensorStart = c.start;
        v.tensorEnd = c.end;
      } else if (field === SUMMARY_VALUE.metadata && bytes) {
        v.metadataStart = c.start;
        v.metadataEnd = c.end;
      } else if (field === SUMMARY_VALUE.image) v.kind = ValueKind.Image;
      else if (field === SUMMARY_VALUE.histo || field === SUMMARY_VALUE.obsoleteOldStyleHistogram) v.kind = ValueKind.Histogram;
      else if (field === SUMMARY_VALUE.audio) v.kind = ValueKind.Audio;
      c.skip();
    }
  }

  /**
   * The plugin a value belongs to: its tag's first metadata's, else its own (which then becomes
   * the tag's). Leaves its own metadata's plugin content range in `content` (-1 when none).
   */
  private pluginOf(buf: Buffer, tag: string): string | null {
    const v = this.value;
    let name: string | null = null;
    this.content[0] = this.content[1] = -1;
    const known = this.pluginByTag.get(tag);
    // Only the hparams plugin's content is ever read: for a tag whose plugin is known, that is all its metadata can add.
    if (known !== undefined && known !== PLUGIN.hparams) return known;
    if (v.metadataStart >= 0) {
      const c = new ProtoCursor(buf, v.metadataStart, v.metadataEnd);
      while (c.next()) {
        if (c.field === SUMMARY_METADATA.pluginData && c.wire === WIRE.bytes) name = this.readPluginData(c.enter()) ?? name;
        else c.skip();
      }
    }
    if (known !== undefined) return known;
    if (name !== null) this.pluginByTag.set(tag, name);
    return name;
  }

  private readPluginData(data: ProtoCursor): string | null {
    let name: string | null = null;
    const buf = data.buf;
    while (data.next()) {
      if (data.field === PLUGIN_DATA.pluginName && data.wire === WIRE.bytes)
        name = sameBytes(buf, data.start, data.end, SCALARS_BYTES) ? PLUGIN.scalars : this.plugins.text(buf, data.start, data.end);
      else if (data.field === PLUGIN_DATA.content && data.wire === WIRE.bytes) {
        this.content[0] = data.start;
        this.content[1] = data.end;
      }
      data.skip();
    }
    return name;
  }

  private keepValue(buf: Buffer, valueStart: number, step: number, wallTime: number): void {
    const v = this.value;
    const tag = this.tags.text(buf, v.tagStart, v.tagEnd);
    if (v.kind === ValueKind.Simple) {
      this.batch.points.push({ tag, step, wallTime, value: v.simple });
      return;
    }
    if (v.kind === ValueKind.None) return;
    if (v.kind !== ValueKind.Tensor) return this.count(SKIPPED_BY_VALUE_KIND[v.kind] as string);
    const plugin = this.pluginOf(buf, tag);
    if (plugin === PLUGIN.scalars) {
      const value = scalarOfTensor(new ProtoCursor(buf, v.tensorStart, v.tensorEnd));
      if (typeof value === 'number') this.batch.points.push({ tag, step, wallTime, value });
      else this.skipNotScalar(tag, step, value, valueStart);
      return;
    }
    const [contentStart, contentEnd] = this.content;
    if (plugin === PLUGIN.hparams && contentStart >= 0) {
      const start = sessionStartOf(buf, contentStart, contentEnd);
      if (start) return this.keepSessionStart(start, valueStart);
    }
    this.skipPlugin(plugin, tag, valueStart);
  }

  private skipNotScalar(tag: string, step: number, value: NotScalar, at: number): void {
    this.count('scalars that are not one number');
    this.sayOnce(
      `not-scalar\0${tag}`,
      at,
      `tag "${tag}" (step ${step}) is under the scalars plugin but ${value.why}; such points are skipped, as TensorBoard skips them`,
    );
  }

  private skipPlugin(name: string | null, tag: string, at: number): void {
    if (name === null || name === '') return this.count('tensors without a plugin');
    const known = KNOWN_SKIPPED_PLUGINS.get(name);
    if (known !== undefined) return this.count(known);
    this.count(`plugin "${name}"`);
    this.sayOnce(`plugin\0${name}`, at, `summaries of the plugin "${name}" (first: tag "${tag}") are not read; every scalar is`);
  }

  private keepSessionStart(start: SessionStart, at: number): void {
    this.batch.sessionStart = start;
    for (const name of start.unread)
      this.sayOnce(`hparam\0${name}`, at, `the hyper-parameter "${name}" is null, a list or a struct; only numbers, strings and booleans are read`);
  }
}
