// A --map file: which tensor of another program's checkpoint each of our weights takes, as JSON
// `{"dense_0/kernel": "Variable_1", …}` (the form `train --resume` prints its own mapping in).
import { z } from 'zod';
import { parseJsonFile } from '../checkpoint/run-files.js';
import { readRegularText } from '../base/regular-file.js';

const MAX_MAP_BYTES = 1 << 20;
const MapSchema = z.record(z.string().min(1), z.string().min(1));

export async function readMapFile(file: string): Promise<Record<string, string>> {
  return parseJsonFile(file, await readRegularText(file, MAX_MAP_BYTES), MapSchema);
}
