// What every reader of a foreign checkpoint format gives the rest of the program. A reader turns a
// path (a file, a prefix, a folder) into the checkpoints it holds, with every tensor's place and
// description, without reading tensor data; then reads tensors on request, checking each against
// the checksum its format stores. Import, inspect, verify, resume and export are written once
// against this, so a new format adds only its own parsing.
import path from 'node:path';
import type { Dtype } from '../base/dtypes.js';

/** The formats we read. */
export const FOREIGN_FORMATS = ['tf-bundle', 'tfjs-layers', 'safetensors', 'keras-h5', 'keras-v3'] as const;
export type ForeignFormat = (typeof FOREIGN_FORMATS)[number];

/**
 * A tensor's element type: one of our (safetensors) dtype names, or STRING for TensorFlow string
 * tensors (kept as the bundle stores them: varint lengths, a masked CRC, then the bytes).
 */
export type ForeignDtype = Dtype | 'STRING';

/** What a tensor is for; decides what resume carries over and what the app shows first. */
export type TensorRole = 'model' | 'optimizer' | 'step' | 'other';

export interface ForeignTensor {
  /** The key the source stores it under, exactly (`dense/kernel`, `net/…/.ATTRIBUTES/VARIABLE_VALUE`). */
  readonly name: string;
  /** Shorter name for display, when the source's key is a long object path; else equal to `name`. */
  readonly displayName: string;
  /** The logical type: what `read` returns (F32 for dequantized TF.js weights). */
  readonly dtype: ForeignDtype;
  readonly shape: readonly number[];
  /** The file (name relative to the checkpoint's folder) and the byte range its stored bytes occupy. */
  readonly file: string;
  readonly offset: number;
  /** Bytes as stored in the source (a quantized weight stores fewer than its logical size). */
  readonly bytes: number;
  readonly role: TensorRole;
  /** An optimizer slot: the variable (source key) it belongs to and the slot's name (`m`, `v`, `Adam`, `Adam_1`, `Momentum`). */
  readonly slot?: { readonly variable: string; readonly name: string };
  /** The CRC-32C the source stores for the tensor, unmasked, if the format stores one. */
  readonly storedCrc32c?: number;
  /** TF.js quantization: the stored type and how to get back the logical values. */
  readonly quantization?: { readonly dtype: 'uint8' | 'uint16' | 'float16'; readonly scale?: number; readonly min?: number };
}

export interface ForeignFile {
  /** Relative to the checkpoint's folder (plain names, or `sub/name` for nested layouts). */
  readonly name: string;
  readonly bytes: number;
  /**
   * tensors: holds tensor bytes; index: describes them (`.index`, `model.json`, an index.json);
   * metadata: read for steps and metrics (`checkpoint`, `trainer_state.json`);
   * kept: copied and listed, never interpreted (`.meta`, `optimizer.pt`).
   */
  readonly role: 'tensors' | 'index' | 'metadata' | 'kept';
}

export interface ForeignCheckpoint {
  readonly format: ForeignFormat;
  /** For people: "TensorFlow checkpoint (TF1 Saver names)", "TensorFlow.js layers model", … */
  readonly formatLabel: string;
  /** Absolute folder holding the files. */
  readonly dir: string;
  /** The checkpoint's own name in its folder: a bundle prefix (`model-1000`), `model.json`, a file name. */
  readonly name: string;
  readonly step: number | null;
  /** Where the step came from, said to the user: "the checkpoint file and the name model-1000". */
  readonly stepSource: string | null;
  /** Unix milliseconds, when the source records it (a `checkpoint` file's timestamps). */
  readonly savedAt: number | null;
  /** Every file that belongs to this checkpoint, each listed once. */
  readonly files: readonly ForeignFile[];
  readonly tensors: readonly ForeignTensor[];
  /** Metrics the source records (trainer_state.json's log history at this step, …). */
  readonly metrics: Readonly<Record<string, number | null>>;
  /** Things a user should know that do not stop reading: a step that disagrees, a slot that maps to no variable. */
  readonly notes: readonly string[];
}

export interface ForeignSource {
  readonly format: ForeignFormat;
  /** The absolute path the user named (after resolving a prefix to its folder). */
  readonly path: string;
  /** Oldest first (by step where known, else by name). */
  readonly checkpoints: readonly ForeignCheckpoint[];
  /** The `name` of the one the source calls latest (the `checkpoint` file's model_checkpoint_path), or null. */
  readonly latest: string | null;
  readonly notes: readonly string[];
}

/** One tensor's bytes, as `read` yields them. */
export interface ForeignTensorData {
  readonly tensor: ForeignTensor;
  /** Logical values, little-endian, row-major, `dtype` elements (dequantized where quantized). */
  readonly data: Uint8Array;
  /** CRC-32C (unmasked) of the stored bytes: what our manifest records and verify compares. */
  readonly storedCrc32c: number;
}

export interface ForeignReader {
  readonly format: ForeignFormat;
  /**
   * Whether `target` (an absolute path that may not exist as named: a bundle prefix) is this
   * format, judged by content (magic numbers, a header's shape), reading a few bytes at most.
   * Never throws for "not mine".
   */
  sniff(target: string): Promise<boolean>;
  /** The structure of everything `target` holds; no tensor data is read. Throws CheckpointFormatError. */
  open(target: string): Promise<ForeignSource>;
  /**
   * Reads the named tensors (all by default) of one checkpoint in file order, checking every
   * stored checksum; a mismatch throws DamagedTensorError naming the file and tensor.
   */
  read(checkpoint: ForeignCheckpoint, options?: { readonly names?: ReadonlySet<string>; readonly signal?: AbortSignal }): AsyncIterable<ForeignTensorData>;
}

/** Where a checkpoint is, for people: its folder when it is a folder of its own (`checkpoint-500/`), else the folder joined with its name. */
export function checkpointPath(checkpoint: Pick<ForeignCheckpoint, 'dir' | 'name'>): string {
  return path.basename(checkpoint.dir) === checkpoint.name ? checkpoint.dir : path.join(checkpoint.dir, checkpoint.name);
}

/** What an exporter is given: plain tensors with our dtype names. */
export interface ExportTensor {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/**
 * Each checkpoint's notes, prefixed with its name, with a note that every checkpoint repeats
 * (up to its own name and numbers: "In ckpt-17, 17 counts saves") said once, for the first,
 * followed by the others' names.
 */
export function checkpointNotes(checkpoints: readonly Pick<ForeignCheckpoint, 'name' | 'notes'>[]): string[] {
  const shapeOf = (note: string, name: string): string =>
    note
      .split(name)
      .join('\u0000')
      .replace(/\d+(\.\d+)?/g, '#');
  const groups = new Map<string, { first: string; names: string[] }>();
  for (const checkpoint of checkpoints) {
    for (const note of checkpoint.notes) {
      const shape = shapeOf(note, checkpoint.name);
      const said = note.includes(checkpoint.name) ? note : `${checkpoint.name}: ${note}`;
      const group = groups.get(shape);
      if (group) group.names.push(checkpoint.name);
      else groups.set(shape, { first: said, names: [checkpoint.name] });
    }
  }
  return [...groups.values()].map(({ first, names }) => (names.length === 1 ? first : `${first} (likewise for ${names.slice(1).join(', ')})`));
}
