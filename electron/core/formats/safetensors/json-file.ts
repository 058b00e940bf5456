// The JSON files beside safetensors weights (an index, trainer_state.json) are small text files
// written by Python; they are read whole, as strict UTF-8, with Python's NaN and Infinity taken as
// null, and checked against a schema whose first complaint names the file and the field.
import type { z } from 'zod';
import { CheckpointFormatError } from '../../base/errors.js';
import { lineAndColumn, parseJsonAs } from '../../base/parse-json.js';
import { readWhole } from '../../storage/file-access.js';
import { aboutFile } from './fs-problem.js';
import { pythonJsonToJson } from './python-json.js';

/** A real index of a 400 B-parameter model is a few MB; a larger one is damage, not something to read. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export async function readJsonText(file: string, maxBytes = MAX_JSON_BYTES): Promise<string> {
  const bytes = await aboutFile(file, () => readWhole(file, maxBytes, 'such a file can hold'));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CheckpointFormatError(file, 'is not UTF-8 text');
  }
}

export async function readJson<T>(file: string, schema: z.ZodType<T>, maxBytes?: number): Promise<T> {
  const text = await readJsonText(file, maxBytes);
  const { json, originalOffset } = pythonJsonToJson(text);
  return parseJsonAs(file, json, schema, (offset) => lineAndColumn(text, originalOffset(offset)));
}
