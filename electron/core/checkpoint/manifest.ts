// manifest.json: the one file that makes a folder a checkpoint. docs/FORMAT.md is its spec;
// this schema is the executable form of that page.
import { z } from 'zod';
import { isDtype } from '../base/dtypes.js';
import { quoted } from '../base/describe-value.js';
import { CheckpointFormatError } from '../base/errors.js';
import { parseJsonText, schemaProblem } from '../base/parse-json.js';
import { MODEL_FILE, OPTIMIZER_FILE } from './layout.js';
import { readRegularText } from '../base/regular-file.js';

export const FORMAT_NAME = 'checkpoint-studio';
export const FORMAT_VERSION = 1;
export const WRITER_PROGRAM = 'checkpoint-studio';

const count = z.int().nonnegative();

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/**
 * A manifest comes from JSON.parse, so any value in it is JSON already; re-validating deep,
 * trainer-owned values (an RNG state can be large) cost a third of listing 10,000 checkpoints.
 */
const jsonValue = z.custom<JsonValue>(() => true);

export const TensorFileSchema = z.enum([MODEL_FILE, OPTIMIZER_FILE]);
export type TensorFile = z.infer<typeof TensorFileSchema>;

export const TensorEntrySchema = z.object({
  file: TensorFileSchema,
  name: z.string().min(1),
  dtype: z.string().refine(isDtype, 'not a safetensors dtype'),
  shape: z.array(count),
  bytes: count,
  /** CRC-32C (Castagnoli) of the tensor's bytes, unmasked, 8 lowercase hex digits. */
  crc32c: z.string().regex(/^[0-9a-f]{8}$/),
});
export type TensorEntry = z.infer<typeof TensorEntrySchema>;

export const CheckpointRefSchema = z.object({ run: z.string().min(1), step: count });
export type CheckpointRef = z.infer<typeof CheckpointRefSchema>;

export const SaveCostSchema = z.object({
  /** How long the training loop was blocked by this save (the in-memory snapshot). */
  blockedMs: z.number().nonnegative(),
  /** How long the background write took. */
  writeMs: z.number().nonnegative(),
  bytes: count,
});
export type SaveCost = z.infer<typeof SaveCostSchema>;

const hex32 = z.string().regex(/^[0-9a-f]{8}$/);

/** A tensor of an imported foreign checkpoint: where it lies in the source's files, and its CRC. */
export const ForeignTensorEntrySchema = z.object({
  name: z.string(),
  displayName: z.string(),
  dtype: z.string().refine((d) => d === 'STRING' || isDtype(d), 'not a dtype this program reads'),
  shape: z.array(count),
  file: z.string().min(1),
  offset: count,
  bytes: count,
  role: z.enum(['model', 'optimizer', 'step', 'other']),
  slot: z.object({ variable: z.string(), name: z.string() }).optional(),
  storedCrc32c: count.optional(),
  quantization: z.object({ dtype: z.enum(['uint8', 'uint16', 'float16']), scale: z.number().optional(), min: z.number().optional() }).optional(),
  /** CRC-32C of the stored bytes, computed when it was imported: what verify compares. */
  crc32c: hex32,
});
export type ForeignTensorEntry = z.infer<typeof ForeignTensorEntrySchema>;

/** A plain relative name inside the checkpoint's folder (`a.bin`, `sub/a.bin`), never leading out of it. */
const relativeFile = z
  .string()
  .refine(
    (name) => name.length > 0 && !name.startsWith('/') && !name.includes('\\') && name.split('/').every((part) => part !== '' && part !== '.' && part !== '..'),
    'not a plain relative file name',
  );

export const ForeignFileEntrySchema = z.object({
  name: relativeFile,
  bytes: count,
  role: z.enum(['tensors', 'index', 'metadata', 'kept']),
  /** For a linked source: the file's modification time when it was imported (a change is noticed). */
  mtimeMs: z.number().optional(),
});

/**
 * An addition within format version 1 (docs/FORMAT.md §3): a checkpoint imported from another
 * program's format keeps that program's files, unchanged, in its folder (or, linked, where they
 * were); this says what they are and where each tensor lies in them.
 */
export const ForeignPartSummarySchema = z.looseObject({
  /** The reader's name (`tf-bundle`, …): the formats layer, not the store, knows which exist. */
  format: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  formatLabel: z.string(),
  /** The checkpoint's name in its source: a bundle prefix, `model.json`, a file name. */
  name: z.string(),
  /** The absolute folder the files are read from, never written; null when they were copied here. */
  linked: z.string().nullable(),
  files: z.array(ForeignFileEntrySchema),
});
export const ForeignPartSchema = ForeignPartSummarySchema.extend({
  step: count.nullable(),
  stepSource: z.string().nullable(),
  savedAt: z.number().nullable(),
  tensors: z.array(ForeignTensorEntrySchema),
  notes: z.array(z.string()),
});
export type ForeignPart = z.infer<typeof ForeignPartSchema>;

export const ManifestSchema = z.looseObject({
  format: z.literal(FORMAT_NAME),
  formatVersion: z.int().positive(),
  run: z.string().min(1),
  step: count,
  epoch: count,
  batchInEpoch: count,
  createdAt: z.iso.datetime(),
  /** Training wall-clock time accumulated up to this checkpoint, across resumes. */
  trainingTimeMs: z.number().nonnegative(),
  /** JSON has no NaN: a diverged loss is stored as null. */
  metrics: z.record(z.string(), z.number().nullable()),
  /** Opaque to the store: the trainer's PRNG state, restored verbatim. */
  rng: jsonValue,
  backend: z.string(),
  parent: CheckpointRefSchema.nullable(),
  origin: z.enum(['trained', 'imported']),
  writer: z.looseObject({ program: z.string(), version: z.string(), host: z.string().optional(), pid: z.int().optional() }),
  files: z.partialRecord(TensorFileSchema, z.object({ bytes: count })),
  tensors: z.array(TensorEntrySchema),
  cost: SaveCostSchema.optional(),
  /** Trainer-owned state the store carries but does not interpret (optimizer config, weights hash…). */
  extra: z.record(z.string(), jsonValue).default({}),
  foreign: ForeignPartSchema.optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/**
 * What listing a workspace needs from a manifest: everything but the tensor index, the RNG state
 * and the trainer's extras, which verification and loading check in full. Skipping them keeps
 * opening a workspace of 10,000 checkpoints within a second.
 */
export const ManifestSummarySchema = ManifestSchema.pick({
  format: true,
  formatVersion: true,
  run: true,
  step: true,
  epoch: true,
  batchInEpoch: true,
  createdAt: true,
  trainingTimeMs: true,
  cost: true,
  metrics: true,
  backend: true,
  parent: true,
  origin: true,
  writer: true,
  files: true,
}).extend({ foreign: ForeignPartSummarySchema.optional() });
export type ManifestSummary = z.infer<typeof ManifestSummarySchema>;

function parseWith<T>(file: string, text: string, schema: z.ZodType<T>): T {
  const json = parseJsonText(file, text);
  if (typeof json === 'object' && json !== null && 'formatVersion' in json) {
    const version = (json as { formatVersion: unknown }).formatVersion;
    if (typeof version === 'number' && version > FORMAT_VERSION) {
      throw new CheckpointFormatError(file, `format version ${version} is newer than this program reads (${FORMAT_VERSION}); update Checkpoint Studio`);
    }
  }
  const result = schema.safeParse(json);
  if (!result.success) throw new CheckpointFormatError(file, schemaProblem(result.error, 'manifest'));
  return result.data;
}

export function parseManifestSummary(file: string, text: string): ManifestSummary {
  return parseWith(file, text, ManifestSummarySchema);
}

export function parseManifest(file: string, text: string): Manifest {
  const manifest = parseWith(file, text, ManifestSchema);
  const names = new Set<string>();
  for (const tensor of manifest.tensors) {
    const key = `${tensor.file}\0${tensor.name}`;
    if (names.has(key)) throw new CheckpointFormatError(file, `tensor ${quoted(tensor.name)} is listed twice for ${tensor.file}`);
    names.add(key);
    if (!(tensor.file in manifest.files))
      throw new CheckpointFormatError(file, `tensor ${quoted(tensor.name)} names ${tensor.file}, which "files" does not list`);
  }
  return manifest;
}

export async function readManifest(file: string): Promise<Manifest> {
  return parseManifest(file, await readRegularText(file));
}
