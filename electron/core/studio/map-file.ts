// A --map file: which tensor of another program's checkpoint each of our weights takes, as JSON
// `{"dense_0/kernel": "Variable_1", …}` (the form `train --resume` prints its own mapping in).
import { z } from 'zod';
import { parseJsonAs } from '../base/parse-json.js';
import { readRegularText } from '../base/regular-file.js';

const MAX_MAP_BYTES = 1 << 20;
const MapSchema = z.record(z.string().min(1), z.string().min(1));

export async function readMapFile(file: string): Promise<Record<string, string>> {
  return parseJsonAs(file, await readRegularText(file, MAX_MAP_BYTES), MapSchema);
}
