// The format fuzz worker: a child process of format-fuzz.test.ts, run compiled
// (dist/test/formats/format-fuzz-worker.js). For each case it copies one real fixture into a case
// folder (the mutated file written, the others hard-linked), mutates one file with the case's
// seed, and puts it through the format's reader: open, then read every tensor of every
// checkpoint (a state file: format-fuzz-state.ts; a .keras zip gets zip-aware mutations too,
// format-fuzz-keras.ts; an event file: format-fuzz-events.ts). It tells the parent before each case (so a hang is named) and reports the outcome:
// a correct result, one of our errors, or a failure (another exception, a wrong result, memory).
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../../electron/contract.js';
import { CheckpointFormatError, DamagedTensorError, NotFoundError, RefusedError } from '../../electron/core/base/errors.js';
import { type Dtype, isDtype, tensorByteLength } from '../../electron/core/base/dtypes.js';
import type { ForeignReader } from '../../electron/core/formats/foreign.js';
import { FOREIGN_READERS } from '../../electron/core/formats/registry.js';
import { Rng, caseSeed } from '../fuzz/prng.js';
import { mutateZip } from './format-fuzz-keras.js';
import { EVENT_FILE_FORMAT, type EventCaseOutcome, type EventYield, eventFileCase, readEventOriginal } from './format-fuzz-events.js';
import { type FormatFuzzConfig, type FormatFuzzMessage, type FuzzFixture, mutate, pickFixture } from './format-fuzz-protocol.js';
import { STATE_FILE_FORMAT, mutateStateFile, stateFileCase } from './format-fuzz-state.js';

const config = JSON.parse(process.argv[2] ?? '{}') as FormatFuzzConfig;

function send(message: FormatFuzzMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) throw new Error('format-fuzz-worker must be started by format-fuzz.test.ts');
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Every tensor of every checkpoint: `checkpoint name \0 tensor name` → bytes. */
type Result = Map<string, Uint8Array>;

async function readAll(reader: ForeignReader, target: string): Promise<Result> {
  const result: Result = new Map();
  const source = await reader.open(target);
  for (const checkpoint of source.checkpoints) {
    for await (const item of reader.read(checkpoint)) {
      const { tensor, data } = item;
      // Whatever a reader returns must be what it says it is.
      if (tensor.dtype !== 'STRING') {
        if (!isDtype(tensor.dtype)) throw new Error(`returned dtype ${String(tensor.dtype)}`);
        const expected = tensorByteLength(tensor.dtype as Dtype, tensor.shape);
        if (expected !== data.byteLength) throw new Error(`tensor "${tensor.name}": ${data.byteLength} bytes for ${tensor.dtype} [${tensor.shape.join(', ')}]`);
      }
      result.set(`${checkpoint.name}\0${tensor.name}`, data);
    }
  }
  return result;
}

const OUR_ERRORS = [CheckpointFormatError, DamagedTensorError, NotFoundError, RefusedError, StudioError];

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0
  );
}

function caseFolder(fixture: FuzzFixture, index: number): string {
  const dir = path.join(config.scratch, `case-${index}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(fixture.dir)) {
    const from = path.join(fixture.dir, name);
    if (fs.statSync(from).isFile()) fs.linkSync(from, path.join(dir, name));
  }
  return dir;
}

async function run(): Promise<void> {
  const readers = new Map<string, ForeignReader>(FOREIGN_READERS.map((r) => [r.format, r]));
  const originals = new Map<string, Result>();
  const eventOriginals = new Map<string, EventYield>();
  for (const fixture of config.fixtures) {
    if (fixture.format === STATE_FILE_FORMAT) continue;
    if (fixture.format === EVENT_FILE_FORMAT) {
      eventOriginals.set(fixture.name, await readEventOriginal(path.join(fixture.dir, fixture.target)));
      continue;
    }
    const reader = readers.get(fixture.format);
    if (!reader) throw new Error(`no reader for ${fixture.format}`);
    originals.set(fixture.name, await readAll(reader, path.join(fixture.dir, fixture.target)));
  }
  for (const index of config.cases) {
    const rng = new Rng(caseSeed(config.seed, index));
    const fixture = pickFixture(config.fixtures, rng);
    const file = fixture.mutable[rng.int(0, fixture.mutable.length)] as string;
    const dir = caseFolder(fixture, index);
    const original = fs.readFileSync(path.join(fixture.dir, file));
    const mutation = fixture.format === 'keras-v3' ? mutateZip : fixture.format === STATE_FILE_FORMAT ? mutateStateFile : mutate;
    const { bytes, description } = mutation(original, rng);
    fs.rmSync(path.join(dir, file));
    fs.writeFileSync(path.join(dir, file), bytes);
    const what = `${fixture.name}/${file}: ${description}`;
    await send({ type: 'case', index, what });
    const reader = readers.get(fixture.format) as ForeignReader;
    const before = process.memoryUsage();
    const started = performance.now();
    let outcome: FormatFuzzMessage;
    try {
      if (fixture.format === STATE_FILE_FORMAT) {
        const state = stateFileCase(dir, path.join(dir, file), bytes, rng);
        outcome =
          'problem' in state
            ? { type: 'failure', index, what, problem: state.problem }
            : {
                type: 'done',
                index,
                what,
                outcome: state.outcome,
                ...(state.message === undefined ? {} : { message: state.message }),
                ms: performance.now() - started,
                growth: 0,
              };
      } else if (fixture.format === EVENT_FILE_FORMAT) {
        const event: EventCaseOutcome = await eventFileCase(eventOriginals.get(fixture.name) as EventYield, dir, file, bytes, rng);
        outcome =
          'problem' in event
            ? { type: 'failure', index, what, problem: event.problem }
            : {
                type: 'done',
                index,
                what,
                outcome: event.outcome,
                ...(event.message === undefined ? {} : { message: event.message }),
                ms: performance.now() - started,
                growth: 0,
              };
      } else {
        const result = await readAll(reader, path.join(dir, fixture.target));
        let wrong: string | null = null;
        if (fixture.checksummed) {
          // Every byte of these formats is covered by a CRC: a read that succeeds returns the original.
          const expected = originals.get(fixture.name) as Result;
          for (const [key, data] of result) {
            const same = expected.get(key);
            if (!same || !sameBytes(same, data))
              wrong = `tensor ${key.replace('\0', ' ')} came back ${same ? 'with other bytes' : 'though the original has no such tensor'}, and no checksum complained`;
          }
        }
        outcome =
          wrong === null
            ? { type: 'done', index, what, outcome: 'read', ms: performance.now() - started, growth: 0 }
            : { type: 'failure', index, what, problem: wrong };
      }
    } catch (error) {
      const ours = OUR_ERRORS.some((kind) => error instanceof kind);
      const message = error instanceof Error ? error.message : String(error);
      outcome =
        ours && !message.includes(dir)
          ? { type: 'failure', index, what, problem: `the error does not name the file it is about: ${message}` }
          : ours
            ? { type: 'done', index, what, outcome: 'refused', message: (error as Error).message, ms: performance.now() - started, growth: 0 }
            : {
                type: 'failure',
                index,
                what,
                problem: `threw ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error)}`,
              };
    }
    const after = process.memoryUsage();
    const growth = after.arrayBuffers - before.arrayBuffers + (after.heapUsed - before.heapUsed);
    const budget = config.memoryFactor * fixture.bytes + config.memorySlack;
    if (outcome.type === 'done') {
      outcome =
        growth > budget
          ? { type: 'failure', index, what, problem: `allocated ${growth} bytes reading a ${fixture.bytes}-byte fixture (budget ${budget})` }
          : { ...outcome, growth };
    }
    fs.rmSync(dir, { recursive: true, force: true });
    await send(outcome);
  }
  await send({ type: 'finished' });
}

run().catch(async (error: unknown) => {
  await send({ type: 'crashed', problem: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) });
  process.exit(1);
});
