// The JSON files beside safetensors weights (an index, trainer_state.json) are small text files
// written by Python; they are read whole, as strict UTF-8, with Python's NaN and Infinity taken as
// null, and checked against a schema whose first complaint names the file and the field.
import type { z } from 'zod';
import { CheckpointFormatError } from '../../base/errors.js';
import { lineAndColumn, parseJsonAs } from '../../base/parse-json.js';
import { openFile } from '../../storage/file-access.js';
import { aboutFile } from './fs-problem.js';
import { pythonJsonToJson } from './python-json.js';

/** A real index of a 400 B-parameter model is a few MB; a larger one is damage, not something to read. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export async function readJsonText(file: string, maxBytes = MAX_JSON_BYTES): Promise<string> {
  const bytes = await aboutFile(file, async () => {
    const { file: handle, size } = await openFile(file);
    try {
      if (size > maxBytes) throw new CheckpointFormatError(file, `is ${size} bytes, more than the ${maxBytes} such a file can hold`);
      const bytes = Buffer.allocUnsafe(size);
      let done = 0;
      while (done < size) {
        const { bytesRead } = await handle.read(bytes, done, size - done, done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return bytes.subarray(0, done);
    } finally {
      await handle.close();
    }
  });
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
