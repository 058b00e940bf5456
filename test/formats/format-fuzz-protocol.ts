// What the format fuzz test and its worker say to each other, and the mutations themselves.
import type { ForeignFormat } from '../../electron/core/formats/foreign.js';
import type { Rng } from '../fuzz/prng.js';
import type { STATE_FILE_FORMAT } from './format-fuzz-state.js';
import type { EVENT_FILE_FORMAT } from './format-fuzz-events.js';

export interface FuzzFixture {
  /** For people: `tf1-mnist`, `tfjs-celsius`. */
  readonly name: string;
  /** A checkpoint format (read through its registered reader), TensorFlow's state file (format-fuzz-state.ts) or a TensorBoard event file (format-fuzz-events.ts). */
  readonly format: ForeignFormat | typeof STATE_FILE_FORMAT | typeof EVENT_FILE_FORMAT;
  /** The fixture's folder (its files are hard-linked into each case's folder). */
  readonly dir: string;
  /** What the reader is given, relative to the folder: a prefix, a file, or '.' for the folder. */
  readonly target: string;
  /** The files a case may mutate. */
  readonly mutable: readonly string[];
  /** Total bytes of the fixture: the memory budget is a multiple of it. */
  readonly bytes: number;
  /** Every byte is covered by a checksum (TensorFlow bundles): a successful read must return the original bytes. */
  readonly checksummed: boolean;
  /** How often it is chosen, relative to the others (an HDF5 case costs a library start when it fails). */
  readonly weight: number;
}

/** A fixture chosen by weight. */
export function pickFixture(fixtures: readonly FuzzFixture[], rng: Rng): FuzzFixture {
  const total = fixtures.reduce((sum, f) => sum + f.weight, 0);
  let at = rng.float() * total;
  for (const fixture of fixtures) {
    at -= fixture.weight;
    if (at < 0) return fixture;
  }
  return fixtures[fixtures.length - 1] as FuzzFixture;
}

export interface FormatFuzzConfig {
  readonly seed: number;
  readonly cases: readonly number[];
  readonly fixtures: readonly FuzzFixture[];
  readonly scratch: string;
  readonly memoryFactor: number;
  readonly memorySlack: number;
}

export type FormatFuzzMessage =
  | { readonly type: 'case'; readonly index: number; readonly what: string }
  | {
      readonly type: 'done';
      readonly index: number;
      readonly what: string;
      readonly outcome: 'read' | 'refused';
      readonly message?: string;
      readonly ms: number;
      readonly growth: number;
    }
  | { readonly type: 'failure'; readonly index: number; readonly what: string; readonly problem: string }
  | { readonly type: 'crashed'; readonly problem: string }
  | { readonly type: 'finished' };

/** Values a hostile header would claim: sizes and counts at the edges of their types. */
const HOSTILE_WORDS = [0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 0xffff, 0];

/** One mutation of `bytes`, chosen by `rng`: bit flips, a truncation, inserted or deleted bytes, or a hostile number. */
export function mutate(bytes: Buffer, rng: Rng): { bytes: Buffer; description: string } {
  const kind = rng.int(0, 5);
  const at = bytes.length === 0 ? 0 : rng.int(0, bytes.length);
  if (kind === 0 && bytes.length > 0) {
    const out = Buffer.from(bytes);
    const flips = rng.int(1, 9);
    const where: number[] = [];
    for (let i = 0; i < flips; i += 1) {
      // Half the flips land near the end, where SSTable footers, index blocks and HDF5 superblock pointers live.
      const position = rng.chance(0.5) ? Math.max(0, bytes.length - 1 - rng.int(0, Math.min(bytes.length, 256))) : rng.int(0, bytes.length);
      out[position] = (out[position] as number) ^ (1 << rng.int(0, 8));
      where.push(position);
    }
    return { bytes: out, description: `${flips} bit flip(s) at ${where.join(', ')}` };
  }
  if (kind === 1) {
    const length = rng.int(0, bytes.length);
    return { bytes: bytes.subarray(0, length), description: `truncated to ${length} of ${bytes.length} bytes` };
  }
  if (kind === 2) {
    const inserted = rng.bytes(rng.int(1, 17));
    return { bytes: Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at)]), description: `${inserted.length} random byte(s) inserted at ${at}` };
  }
  if (kind === 3 && bytes.length > 0) {
    const count = rng.int(1, Math.min(17, bytes.length - at + 1));
    return { bytes: Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + count)]), description: `${count} byte(s) deleted at ${at}` };
  }
  const out = Buffer.from(bytes);
  const word = rng.pick(HOSTILE_WORDS);
  const position = Math.max(0, Math.min(at, out.length - 4));
  if (out.length >= 4) out.writeUInt32LE(word >>> 0, position);
  return { bytes: out, description: `u32 ${word} written at ${position}` };
}
