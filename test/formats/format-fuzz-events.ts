// The format fuzz test's case for TensorBoard event files (run by format-fuzz-worker.ts). The same
// rules as for the checkpoint formats, in the terms of an event file: every byte of one is covered
// by a CRC, so whatever a mutated file yields must be the original's points, in order, up to where
// the damage is (a prefix: nothing changed, nothing invented); a reader that stops before the end
// of the file says why, naming the file and the offset (a damage problem), or stops at a record
// not written whole yet; anything thrown is one of our errors naming the file. The same bytes read in two steps (a random prefix, then the rest,
// as a writer appends them) must give what one read gives.
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EventFileReader, type EventFileRead } from '../../electron/core/formats/tensorboard/event-file-reader.js';
import type { Rng } from '../fuzz/prng.js';

/** The kind of fixture this module reads, beside the checkpoint formats' names. */
export const EVENT_FILE_FORMAT = 'tensorboard-events';

/** What an event file yields, in a form compared with `sameYield` (NaN equals NaN). */
export interface EventYield {
  readonly points: readonly (readonly [string, number, number, number])[];
  readonly sessionStart: string | null;
}

function yieldOf(reads: readonly EventFileRead[]): EventYield {
  const points = reads.flatMap((r) => r.points.map((p) => [p.tag, p.step, p.wallTime, p.value] as const));
  const start = reads.map((r) => r.sessionStart).findLast((s) => s !== null) ?? null;
  return { points, sessionStart: start === null ? null : JSON.stringify(start) };
}

export async function readEventOriginal(file: string): Promise<EventYield> {
  return yieldOf([await new EventFileReader(file).readNew()]);
}

function samePoint(a: readonly [string, number, number, number], b: readonly [string, number, number, number]): boolean {
  return a.every((value, i) => Object.is(value, b[i]));
}

function describePoint(p: readonly [string, number, number, number] | undefined): string {
  return p === undefined ? 'nothing' : `${p[0]} step ${p[1]} = ${p[3]} at ${p[2]}`;
}

/** Where two point lists first differ, or -1. */
function firstDifference(a: EventYield['points'], b: EventYield['points']): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const [x, y] = [a[i], b[i]];
    if (x === undefined || y === undefined || !samePoint(x, y)) return i;
  }
  return -1;
}

export type EventCaseOutcome = { readonly outcome: 'read' | 'refused'; readonly message?: string } | { readonly problem: string };

function checkAgainstOriginal(original: EventYield, read: EventFileRead, dir: string, size: number): string | null {
  const got = yieldOf([read]);
  if (got.points.length > original.points.length) return `yielded ${got.points.length} points; the original holds ${original.points.length}`;
  const differs = firstDifference(got.points, original.points.slice(0, got.points.length));
  if (differs >= 0)
    return `point ${differs} came back as ${describePoint(got.points[differs])}, not ${describePoint(original.points[differs])}, and no CRC complained`;
  if (got.sessionStart !== null && got.sessionStart !== original.sessionStart) return `yielded a session start the original does not hold: ${got.sessionStart}`;
  for (const problem of read.problems) if (!problem.message.includes(dir)) return `a problem does not name the file: ${problem.message}`;
  // Without damage, the reader went to the end of the file: whole records, then at most one unfinished.
  const damaged = read.problems.some((p) => p.kind === 'damaged');
  if (!damaged && read.offset + read.pendingBytes !== size)
    return `stopped at byte ${read.offset} of ${size} (${read.pendingBytes} pending) without a problem saying why`;
  return null;
}

/** The same bytes appended in two steps, read after each. */
async function readInTwoSteps(file: string, bytes: Buffer, rng: Rng): Promise<EventFileRead[]> {
  const cut = rng.int(0, bytes.length + 1);
  writeFileSync(file, bytes.subarray(0, cut));
  const reader = new EventFileReader(file);
  const first = await reader.readNew();
  appendFileSync(file, bytes.subarray(cut));
  return [first, await reader.readNew()];
}

function damageOffsets(reads: readonly EventFileRead[]): string {
  return reads
    .flatMap((r) => r.problems)
    .map((p) => `${p.kind}@${p.byteOffset}`)
    .join(',');
}

/** Reads the mutated event file `file` (holding `bytes`) of a case folder, and checks it by the rules above. */
export async function eventFileCase(original: EventYield, dir: string, file: string, bytes: Buffer, rng: Rng): Promise<EventCaseOutcome> {
  const target = path.join(dir, file);
  const read = await new EventFileReader(target).readNew();
  const wrong = checkAgainstOriginal(original, read, dir, bytes.length);
  if (wrong !== null) return { problem: wrong };
  const steps = await readInTwoSteps(path.join(dir, `split-${file}`), bytes, rng);
  const [once, twice] = [yieldOf([read]), yieldOf(steps)];
  const differs = firstDifference(once.points, twice.points);
  if (differs >= 0)
    return { problem: `read in two steps, point ${differs} is ${describePoint(twice.points[differs])}; read at once, ${describePoint(once.points[differs])}` };
  if (damageOffsets([read]) !== damageOffsets(steps))
    return { problem: `read in two steps, the problems are ${damageOffsets(steps)}; read at once, ${damageOffsets([read])}` };
  const damage = read.problems.find((p) => p.kind === 'damaged');
  return damage ? { outcome: 'refused', message: damage.message } : { outcome: 'read' };
}
