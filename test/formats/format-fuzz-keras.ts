// The format fuzz test's .keras fixture and the mutations aimed at its zip structure. The fixture is
// made at the start of the run (keras-files.ts: Keras 3's layout, with an asset besides), as no
// .keras file is among the shared fixtures. Half of the cases change what a zip reader decides by:
// an entry's encryption flag, its name (made to climb with `..` or start at the root), its sizes,
// its compression method, where its local header is said to be, the entry count; the other half get
// the shared byte-level mutations. Every byte of model.weights.h5 is covered by the zip's CRC-32,
// which the reader checks, so a read that succeeds must return the original tensors.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Rng } from '../fuzz/prng.js';
import { mutate } from './format-fuzz-protocol.js';
import { kerasEntries, kerasWeightsH5, zipOf } from './keras-files.js';

export const KERAS_FUZZ_FILE = 'model.keras';

/** Writes the fixture into `dir` (created) and returns the folder. */
export async function writeKerasFuzzFixture(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const weights = await kerasWeightsH5(path.join(dir, 'scratch.h5'));
  const zip = await zipOf([...kerasEntries(weights), { name: 'assets/string_lookup/vocabulary.txt', data: Buffer.from('a\nb\nc\n') }]);
  writeFileSync(path.join(dir, KERAS_FUZZ_FILE), zip);
  return dir;
}

/** Where the central directory's file headers (APPNOTE.TXT 4.3.12) and the end record (4.3.16) are. */
function structure(bytes: Buffer): { central: number[]; end: number } {
  const central: number[] = [];
  for (let at = bytes.indexOf('PK\x01\x02'); at >= 0; at = bytes.indexOf('PK\x01\x02', at + 4)) central.push(at);
  return { central, end: bytes.lastIndexOf('PK\x05\x06') };
}

const HOSTILE_SIZES = [0xffffffff, 0x7fffffff, 0x40000001, 0, 1, 0x10000];

/** One mutation of a zip archive's structure, or of its bytes. */
export function mutateZip(bytes: Buffer, rng: Rng): { bytes: Buffer; description: string } {
  const { central, end } = structure(bytes);
  if (central.length === 0 || end < 0 || rng.chance(0.5)) return mutate(bytes, rng);
  const out = Buffer.from(bytes);
  const header = rng.pick(central);
  const nameLength = out.readUInt16LE(header + 28);
  const kind = rng.int(0, 6);
  if (kind === 0) {
    out.writeUInt16LE(out.readUInt16LE(header + 8) | 0x1, header + 8);
    return { bytes: out, description: `entry at ${header}: encrypted flag set` };
  }
  if (kind === 1 && nameLength >= 2) {
    const hostile = rng.pick(['..', '/', '\\', 'C:']);
    out.write(hostile, header + 46, 'latin1');
    return { bytes: out, description: `entry at ${header}: name starts with ${hostile}` };
  }
  if (kind === 2) {
    const size = rng.pick(HOSTILE_SIZES);
    const field = rng.pick([20, 24]);
    out.writeUInt32LE(size >>> 0, header + field);
    if (rng.chance(0.5)) out.writeUInt32LE(size >>> 0, header + (field === 20 ? 24 : 20));
    return { bytes: out, description: `entry at ${header}: ${field === 20 ? 'compressed' : 'uncompressed'} size ${size}` };
  }
  if (kind === 3) {
    const method = rng.pick([8, 12, 14, 99, 0]);
    out.writeUInt16LE(method, header + 10);
    return { bytes: out, description: `entry at ${header}: compression method ${method}` };
  }
  if (kind === 4) {
    const offset = rng.chance(0.5) ? out.readUInt32LE(rng.pick(central) + 42) : rng.pick(HOSTILE_SIZES);
    out.writeUInt32LE(offset >>> 0, header + 42);
    return { bytes: out, description: `entry at ${header}: local header offset ${offset}` };
  }
  const count = rng.pick([0, 1, central.length + 1, 0xffff]);
  out.writeUInt16LE(count, end + 8);
  out.writeUInt16LE(count, end + 10);
  return { bytes: out, description: `entry count ${count}` };
}
