// A seeded fuzz test of every foreign-format reader on the real fixtures: thousands of copies,
// each with one file mutated (bit flips, truncations, inserted and deleted bytes, hostile
// numbers), read whole through the registry's reader (TensorFlow's state file through the edits the
// app makes to it, by format-fuzz-state.ts's rules; a .keras zip made here, with zip-aware mutations
// too, format-fuzz-keras.ts; TensorBoard event files through their incremental reader, by
// format-fuzz-events.ts's rules). Every case must end, quickly, with a correct result or one of our
// errors; never another exception, never a hang, never an allocation far beyond the file's size.
// For TensorFlow bundles and .keras files, whose every tensor byte a CRC covers, a read that
// succeeds must return the original bytes.
//
// The cases run in child processes (format-fuzz-worker.ts, compiled) so that a reader stuck in
// a loop can be killed and named, not freeze the test.
//
//   FUZZ_SEED=<n>            the run's seed (printed; fixed by default, so CI is reproducible)
//   FUZZ_FORMAT_CASES=<n>    how many cases (default 1000 in npm test, 5000 in npm run fuzz:formats)
//   FUZZ_ONLY=<i,j,…>        replay just these cases of the seed
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FOREIGN_READERS } from '../../electron/core/formats/registry.js';
import { REPOSITORY_ROOT, sharedFixture, testData } from '../fixtures.js';
import { sized } from '../test-size.js';
import { KERAS_FUZZ_FILE, writeKerasFuzzFixture } from './format-fuzz-keras.js';
import { isEventFileName } from '../../electron/core/formats/tensorboard/event-file-names.js';
import { EVENT_FILE_FORMAT } from './format-fuzz-events.js';
import type { FormatFuzzConfig, FormatFuzzMessage, FuzzFixture } from './format-fuzz-protocol.js';
import { STATE_FILE_FORMAT, writeSyntheticStateFixture } from './format-fuzz-state.js';

const WORKER = path.join(REPOSITORY_ROOT, 'dist/test/formats/format-fuzz-worker.js');
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261127);
const CASE_COUNT = Number(process.env['FUZZ_FORMAT_CASES'] ?? sized(1000, 5000));
const ONLY = process.env['FUZZ_ONLY']?.split(',').map((s) => Number(s.trim()));
/** A case reads a few kilobytes to a few megabytes: one silent this long is stuck. */
const HANG_MS = 10_000;
const STARTUP_MS = 60_000;

function folderBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, name) => {
    const info = fs.statSync(path.join(dir, name));
    return sum + (info.isFile() ? info.size : 0);
  }, 0);
}

function fixture(
  name: string,
  format: FuzzFixture['format'],
  dir: string | null,
  target: string,
  mutable: string[],
  checksummed: boolean,
  weight = 1,
): FuzzFixture | null {
  if (dir === null) return null;
  return { name, format, dir, target, mutable, bytes: folderBytes(dir), checksummed, weight };
}

/** Fixtures made for the run (no shared fixture is a .keras file or a hand-edited state file), removed after it. */
const MADE = fs.mkdtempSync(path.join(os.tmpdir(), 'format-fuzz-fixtures-'));
const kerasDir = await writeKerasFuzzFixture(path.join(MADE, 'keras-v3'));
const syntheticStateDir = writeSyntheticStateFixture(path.join(MADE, 'state-file'));

/**
 * The kinds issue 16 added (event files, state files, .keras zips) are chosen twice as often as a
 * checkpoint format: 14 of 24 weights, so they get over half of every run (about 2,900 of the 5,000
 * at full size, where the issue asks for 2,000; checked below). Their cases take under a millisecond
 * (an HDF5 one about ten), so the run is no slower for it.
 */
const NEW_KIND_WEIGHT = 2;
const NEW_KINDS = new Set<string>([EVENT_FILE_FORMAT, STATE_FILE_FORMAT, 'keras-v3']);
/** The share of all cases these kinds must get, whatever the seed, when all seven of their fixtures are there. */
const NEW_KIND_SHARE = 0.4;

/** A TensorBoard event file fixture: the one event file in `dir`, which a case mutates. */
function eventFixture(name: string, dir: string | null): FuzzFixture | null {
  const file = dir === null ? undefined : fs.readdirSync(dir).find(isEventFileName);
  return dir === null || file === undefined ? null : fixture(name, EVENT_FILE_FORMAT, dir, file, [file], true, NEW_KIND_WEIGHT);
}

const available = new Set<string>([...FOREIGN_READERS.map((r) => r.format), STATE_FILE_FORMAT, EVENT_FILE_FORMAT]);
const FIXTURES = [
  fixture('tf1-exporter', 'tf-bundle', testData('tf-serving', 'half-plus-two-exporter'), 'export', ['export.index', 'export.data-00000-of-00001'], true),
  fixture(
    'tf1-savedmodel-snappy',
    'tf-bundle',
    testData('tf-serving', 'saved-model-v1-half-plus-two', 'variables'),
    '.',
    ['variables.index', 'variables.data-00000-of-00001'],
    true,
  ),
  fixture(
    'tf2-savedmodel-snappy',
    'tf-bundle',
    testData('tf-serving', 'saved-model-v2-half-plus-two', 'variables'),
    '.',
    ['variables.index', 'variables.data-00000-of-00001'],
    true,
  ),
  fixture(
    'tf1-mnist',
    'tf-bundle',
    sharedFixture('tf1-saver', 'mnist-softmax-10steps'),
    '.',
    ['checkpoint', 'model-1000.index', 'model-1000.data-00000-of-00001', 'model-10000.index'],
    true,
  ),
  fixture(
    'tf2-manager',
    'tf-bundle',
    sharedFixture('tf2-checkpoint', 'tictactoe-manager'),
    '.',
    ['checkpoint', 'ckpt-19.index', 'ckpt-19.data-00000-of-00001'],
    true,
  ),
  fixture('tf1-sharded', 'tf-bundle', sharedFixture('sharded', 'overtopping-savedmodel', 'variables'), '.', ['variables.index'], true),
  fixture('tfjs-celsius', 'tfjs-layers', sharedFixture('tfjs-layers', 'celsius-dense'), 'model.json', ['model.json', 'group1-shard1of1.bin'], false),
  fixture('safetensors-samples', 'safetensors', testData('hf-safetensors-samples'), 'overall.safetensors', ['overall.safetensors'], false),
  fixture('safetensors-tinygrad', 'safetensors', sharedFixture('safetensors', 'tinygrad-mnist'), 'model.safetensors', ['model.safetensors'], false),
  fixture('keras-h5', 'keras-h5', sharedFixture('keras-h5', 'tictactoe'), 'weights_iteration.h5', ['weights_iteration.h5'], false),
  fixture('keras-v3', 'keras-v3', kerasDir, KERAS_FUZZ_FILE, [KERAS_FUZZ_FILE], true, NEW_KIND_WEIGHT),
  fixture('state-tf1-saver', STATE_FILE_FORMAT, sharedFixture('tf1-saver', 'mnist-softmax-10steps'), 'checkpoint', ['checkpoint'], false, NEW_KIND_WEIGHT),
  fixture('state-tf2-manager', STATE_FILE_FORMAT, sharedFixture('tf2-checkpoint', 'tictactoe-manager'), 'checkpoint', ['checkpoint'], false, NEW_KIND_WEIGHT),
  fixture('state-by-hand', STATE_FILE_FORMAT, syntheticStateDir, 'checkpoint', ['checkpoint'], false, NEW_KIND_WEIGHT),
  eventFixture('tb-tf2-scalar', sharedFixture('tensorboard', 'tf2-summary-scalar')),
  eventFixture('tb-keras-train', sharedFixture('tensorboard', 'keras-callback-reuters', 'train')),
  eventFixture('tb-keras-validation', sharedFixture('tensorboard', 'keras-callback-reuters', 'validation')),
].filter((f): f is FuzzFixture => f !== null && available.has(f.format));

interface Record_ {
  readonly index: number;
  readonly what: string;
  readonly outcome: 'read' | 'refused' | 'failure' | 'hang';
  readonly detail: string;
  readonly ms?: number;
}

/** Runs `cases` in one worker; a worker that goes silent is killed and the rest carry on in a new one. */
async function runWorker(cases: readonly number[], scratch: string, records: Record_[]): Promise<void> {
  let left = [...cases];
  while (left.length > 0) {
    const config: FormatFuzzConfig = { seed: SEED, cases: left, fixtures: FIXTURES, scratch, memoryFactor: 8, memorySlack: 48 << 20 };
    const child: ChildProcess = fork(WORKER, [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: ['--max-old-space-size=1024'],
    });
    let current: { index: number; what: string } | null = null;
    const finishedCases = new Set<number>();
    await new Promise<void>((resolve) => {
      let timer = setTimeout(() => child.kill('SIGKILL'), STARTUP_MS);
      const rearm = (ms: number): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (current) records.push({ index: current.index, what: current.what, outcome: 'hang', detail: `no result after ${ms} ms` });
          child.kill('SIGKILL');
        }, ms);
      };
      child.on('message', (message: FormatFuzzMessage) => {
        if (message.type === 'case') {
          current = { index: message.index, what: message.what };
          rearm(HANG_MS);
        } else if (message.type === 'done') {
          finishedCases.add(message.index);
          records.push({ index: message.index, what: message.what, outcome: message.outcome, detail: message.message ?? '', ms: message.ms });
        } else if (message.type === 'failure') {
          finishedCases.add(message.index);
          records.push({ index: message.index, what: message.what, outcome: 'failure', detail: message.problem });
        } else if (message.type === 'crashed') {
          records.push({
            index: current?.index ?? -1,
            what: current?.what ?? 'worker start-up',
            outcome: 'failure',
            detail: `worker crashed: ${message.problem}`,
          });
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const stuck = current as { index: number } | null;
    if (stuck !== null) finishedCases.add(stuck.index);
    const before = left.length;
    left = left.filter((i) => !finishedCases.has(i));
    // A worker that died before its first case would loop forever.
    if (left.length === before) {
      records.push({ index: left[0] ?? -1, what: 'worker', outcome: 'failure', detail: 'the worker ended without finishing a case' });
      return;
    }
  }
}

describe('every foreign-format reader, on mutated real fixtures', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'format-fuzz-'));
  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(MADE, { recursive: true, force: true });
  });

  it(`ends every case with a correct result or our error, without hanging or over-allocating (seed ${SEED})`, { timeout: 600_000 }, async () => {
    expect(fs.existsSync(WORKER), `${WORKER} is missing: run npm run build first`).toBe(true);
    expect(FIXTURES.length).toBeGreaterThan(0);
    console.log(`format fuzz: seed ${SEED}, ${ONLY ? ONLY.length : CASE_COUNT} cases over ${FIXTURES.map((f) => f.name).join(', ')}`);
    const cases = ONLY ?? Array.from({ length: CASE_COUNT }, (_, i) => i);
    const records: Record_[] = [];
    const halves = [cases.filter((_, i) => i % 2 === 0), cases.filter((_, i) => i % 2 === 1)];
    await Promise.all(halves.map((half, i) => runWorker(half, path.join(scratch, `w${i}`), records)));
    const failures = records.filter((r) => r.outcome === 'failure' || r.outcome === 'hang');
    const byOutcome = (o: Record_['outcome']): number => records.filter((r) => r.outcome === o).length;
    console.log(
      `format fuzz: ${records.length} cases: ${byOutcome('read')} read correctly, ${byOutcome('refused')} refused with our error, ${failures.length} failed`,
    );
    for (const f of FIXTURES) {
      const mine = records.filter((r) => r.what.startsWith(`${f.name}/`));
      const ms = mine.map((r) => r.ms ?? 0).sort((a, b) => a - b);
      console.log(
        `  ${f.name}: ${mine.length} cases, ${mine.filter((r) => r.outcome === 'refused').length} refused, median ${(ms[Math.floor(ms.length / 2)] ?? 0).toFixed(1)} ms, max ${(ms.at(-1) ?? 0).toFixed(0)} ms`,
      );
    }
    const newKindNames = new Set(FIXTURES.filter((f) => NEW_KINDS.has(f.format)).map((f) => f.name));
    const newKindCases = records.filter((r) => newKindNames.has(r.what.split('/')[0] ?? '')).length;
    console.log(`  event files, state files and .keras zips: ${newKindCases} of the ${records.length} cases`);
    const shown = failures.slice(0, 10).map((f) => `case ${f.index} (${f.what}): ${f.outcome}: ${f.detail}`);
    expect(shown, `replay with FUZZ_SEED=${SEED} FUZZ_ONLY=${failures.map((f) => f.index).join(',')}`).toEqual([]);
    expect(records.length).toBe(cases.length);
    // Both ends are exercised: mutations that readers must refuse, and ones they may read through.
    if (!ONLY) {
      expect(byOutcome('refused')).toBeGreaterThan(cases.length / 10);
      expect(byOutcome('read')).toBeGreaterThan(0);
      if (newKindNames.size === 7) expect(newKindCases).toBeGreaterThanOrEqual(cases.length * NEW_KIND_SHARE);
    }
  });
});
