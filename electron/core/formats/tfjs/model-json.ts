// A TF.js `model.json` (tensorflow/tfjs tfjs-core/src/io/types.ts: ModelJSON, WeightsManifestEntry),
// checked field by field: it comes from anywhere, and every later step (sizes, offsets, reads)
// trusts what this returns. Errors name the file and the weight, so a user can find the entry.
import { describeJson, quoted, quotedValue } from '../../base/describe-value.js';
import { CheckpointFormatError } from '../../base/errors.js';
import { parseJsonText } from '../../base/parse-json.js';

/** Larger than any real model.json (a topology plus a manifest): refused before it is read. */
export const MAX_MODEL_JSON_BYTES = 100 * 1024 * 1024;

export const TFJS_DTYPES = ['float32', 'float16', 'int32', 'bool', 'string', 'complex64'] as const;
export type TfjsDtype = (typeof TFJS_DTYPES)[number];

/** types.ts DTYPE_VALUE_SIZE_MAP, for the dtypes a weight can be stored as. */
export const TFJS_VALUE_BYTES: Readonly<Record<Exclude<TfjsDtype, 'string'> | 'uint8' | 'uint16', number>> = {
  float32: 4,
  float16: 2,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
};

export interface TfjsQuantization {
  readonly dtype: 'uint8' | 'uint16' | 'float16';
  readonly scale?: number;
  readonly min?: number;
}

export interface TfjsWeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: TfjsDtype;
  readonly group?: 'model' | 'optimizer';
  readonly quantization?: TfjsQuantization;
}

export interface TfjsWeightGroup {
  readonly paths: readonly string[];
  readonly weights: readonly TfjsWeightEntry[];
}

export interface TfjsModelJson {
  readonly format: string | null;
  readonly generatedBy: string | null;
  readonly convertedBy: string | null;
  readonly weightsManifest: readonly TfjsWeightGroup[];
  readonly userDefinedMetadata: Readonly<Record<string, unknown>> | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(file: string, json: Record<string, unknown>, key: string): string | null {
  const value = json[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new CheckpointFormatError(file, `"${key}" must be a string, not ${describeJson(value)}`);
  return value;
}

/** Parses and checks a model.json's text; `file` is named in every error. */
export function parseModelJson(file: string, text: string): TfjsModelJson {
  const json = parseJsonText(file, text);
  if (!isRecord(json)) throw new CheckpointFormatError(file, `must hold a JSON object, not ${describeJson(json)}`);
  const manifest = json['weightsManifest'];
  if (!Array.isArray(manifest)) throw new CheckpointFormatError(file, `"weightsManifest" must be an array, not ${describeJson(manifest)}`);
  const names = new Set<string>();
  const groups = manifest.map((group, index) => parseGroup(file, group, index, names));
  const metadata = json['userDefinedMetadata'];
  if (metadata !== undefined && metadata !== null && !isRecord(metadata)) {
    throw new CheckpointFormatError(file, `"userDefinedMetadata" must be an object, not ${describeJson(metadata)}`);
  }
  return {
    format: optionalString(file, json, 'format'),
    generatedBy: optionalString(file, json, 'generatedBy'),
    convertedBy: optionalString(file, json, 'convertedBy'),
    weightsManifest: groups,
    userDefinedMetadata: metadata ?? null,
  };
}

function parseGroup(file: string, group: unknown, index: number, names: Set<string>): TfjsWeightGroup {
  const where = `weightsManifest[${index}]`;
  if (!isRecord(group)) throw new CheckpointFormatError(file, `${where} must be an object, not ${describeJson(group)}`);
  const paths = group['paths'];
  if (!Array.isArray(paths) || !paths.every((p): p is string => typeof p === 'string')) {
    throw new CheckpointFormatError(file, `${where}.paths must be an array of file names`);
  }
  const weights = group['weights'];
  if (!Array.isArray(weights)) throw new CheckpointFormatError(file, `${where}.weights must be an array, not ${describeJson(weights)}`);
  const parsed = weights.map((weight, i) => parseWeight(file, weight, `${where}.weights[${i}]`));
  for (const weight of parsed) {
    if (names.has(weight.name)) throw new CheckpointFormatError(file, `weight ${quoted(weight.name)} appears twice in the manifest`);
    names.add(weight.name);
  }
  if (parsed.length > 0 && paths.length === 0) throw new CheckpointFormatError(file, `${where} lists weights but no files holding them`);
  return { paths, weights: parsed };
}

function parseWeight(file: string, weight: unknown, where: string): TfjsWeightEntry {
  if (!isRecord(weight)) throw new CheckpointFormatError(file, `${where} must be an object, not ${describeJson(weight)}`);
  const name = weight['name'];
  if (typeof name !== 'string' || name === '') throw new CheckpointFormatError(file, `${where} has no name`);
  const label = `weight ${quoted(name)}`;
  const shape = weight['shape'];
  if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointFormatError(file, `${label}: shape must be an array of non-negative integers, not ${describeJson(shape)}`);
  }
  const dtype = weight['dtype'];
  if (typeof dtype !== 'string' || !(TFJS_DTYPES as readonly string[]).includes(dtype)) {
    throw new CheckpointFormatError(file, `${label}: dtype ${quotedValue(dtype)} is not one of ${TFJS_DTYPES.join(', ')}`);
  }
  const group = weight['group'];
  if (group !== undefined && group !== null && group !== 'model' && group !== 'optimizer') {
    throw new CheckpointFormatError(file, `${label}: group must be "model" or "optimizer", not ${quotedValue(group)}`);
  }
  const quantization =
    weight['quantization'] === undefined || weight['quantization'] === null
      ? undefined
      : parseQuantization(file, label, dtype as TfjsDtype, weight['quantization']);
  return {
    name,
    shape,
    dtype: dtype as TfjsDtype,
    ...(group === 'model' || group === 'optimizer' ? { group } : {}),
    ...(quantization ? { quantization } : {}),
  };
}

/** The combinations io_utils.ts decodeWeight accepts, and no others. */
function parseQuantization(file: string, label: string, dtype: TfjsDtype, value: unknown): TfjsQuantization {
  if (!isRecord(value)) throw new CheckpointFormatError(file, `${label}: quantization must be an object, not ${describeJson(value)}`);
  const stored = value['dtype'];
  if (stored !== 'uint8' && stored !== 'uint16' && stored !== 'float16') {
    throw new CheckpointFormatError(file, `${label}: quantization dtype ${quotedValue(stored)} is not uint8, uint16 or float16`);
  }
  if (stored === 'float16') {
    if (dtype !== 'float32') throw new CheckpointFormatError(file, `${label}: float16 quantization applies only to float32 weights, not ${dtype}`);
    return { dtype: stored };
  }
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new CheckpointFormatError(file, `${label}: ${stored} quantization applies only to float32 and int32 weights, not ${dtype}`);
  }
  const scale = value['scale'];
  const min = value['min'];
  if (typeof scale !== 'number' || !Number.isFinite(scale) || typeof min !== 'number' || !Number.isFinite(min)) {
    throw new CheckpointFormatError(file, `${label}: ${stored} quantization needs finite numbers "scale" and "min"`);
  }
  return { dtype: stored, scale, min };
}
