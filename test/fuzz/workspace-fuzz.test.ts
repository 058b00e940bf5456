// A seeded fuzz test of the workspace itself: thousands of randomly corrupted workspaces (manifests,
// tensor files, trash entries, locks, run.json, retention.json, the verification cache, links and
// FIFOs), each put through ls, verify, latest, best, trash ls, prune --dry-run and one of trash
// restore / purge, with canary files inside, beside and outside the workspace. It proves: no
// canary changes, no hang, no stack trace, exit codes 0 or 1, and nothing changed by what only reads.
//
// The cases run in child processes (fuzz-worker.ts, compiled) because the bug class that matters
// most here, a blocking open() of a FIFO, freezes the thread that makes it. This file is the
// watchdog: it hears from the worker before every case and command, feeds a FIFO that someone is
// stuck on (and records the hang) so a case costs a fraction of a second instead of the whole run,
// and kills a worker that goes silent for good, then carries on with the next case.
//
//   FUZZ_SEED=<n>       the run's seed (printed; default fixed, so CI is reproducible)
//   FUZZ_CASES=<n>      how many cases (default 300 in npm test, 2000 in npm run fuzz:workspace)
//   FUZZ_ONLY=<i,j,…>   replay just these cases of the seed
//   FUZZ_WORKERS=<n>    worker processes (default: cores + 1)
//   FUZZ_REPORT=<file>  also write every case's record there as JSON
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sized } from '../test-size.js';
import { caseSeed } from './prng.js';
import type { Failure, FailureKind, WorkerConfig, WorkerMessage } from './protocol.js';
import { type Template, buildTemplate } from './template.js';
import { feedFifo, findFifos, forceRemove, holdsWithoutBlocking, pathShape } from './tree.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORKER = path.join(ROOT, 'dist/test/fuzz/fuzz-worker.js');

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
}

function parseOnly(raw: string | undefined): number[] | null {
  if (raw === undefined || raw.trim() === '') return null;
  return raw.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`FUZZ_ONLY lists case numbers separated by commas, got "${raw}"`);
    return value;
  });
}

const SEED = envInt('FUZZ_SEED', 20261125);
/** A case applies 1 to 3 of the 50 corruptions: 300 cases draw each about 12 times, the full run about 80 times. */
const CASE_COUNT = envInt('FUZZ_CASES', sized(300, 2000));
const ONLY = parseOnly(process.env['FUZZ_ONLY']);
/** One more than the cores: about half of a case is spent waiting for the disk, which another worker can use. */
const WORKERS = Math.max(1, envInt('FUZZ_WORKERS', os.availableParallelism() + 1));
/** No word from a worker for this long: it is stuck beyond what feeding FIFOs can undo. */
const HANG_MS = envInt('FUZZ_HANG_MS', 10_000);
/** Importing the CLI (commander, zod, TensorFlow.js) on a busy machine. */
const STARTUP_MS = 60_000;
/** A command on this tiny workspace takes milliseconds; one still running after this is looked at. */
const FEED_AFTER_MS = 250;
const TICK_MS = 20;
/**
 * Once FIFO hangs have been confirmed this many times by waiting, FIFOs are fed from the start of
 * every command, so that a product that blocks on every FIFO costs milliseconds per case, not 250.
 */
const FAST_FEED_AFTER = 3;

interface CaseRecord {
  readonly index: number;
  readonly seed: number;
  corruptions: readonly string[];
  readonly failures: Failure[];
  ms: number | null;
  codes: Readonly<Record<string, number | null>>;
}

interface RunningCase {
  readonly record: CaseRecord;
  readonly dir: string;
  readonly fifos: number;
  /** This case already blocked on a FIFO: feed its FIFOs at once from now on. */
  fastFeed: boolean;
  /** `command|fifo` pairs already recorded. */
  readonly fed: Set<string>;
}

class Fuzzer {
  readonly records = new Map<number, CaseRecord>();
  private confirmedHangs = 0;
  private readonly children = new Set<ChildProcess>();

  constructor(
    private readonly base: string,
    private readonly template: string,
  ) {}

  record(index: number): CaseRecord {
    let record = this.records.get(index);
    if (!record) {
      record = { index, seed: caseSeed(SEED, index), corruptions: [], failures: [], ms: null, codes: {} };
      this.records.set(index, record);
    }
    return record;
  }

  /** Runs `cases` in one worker at a time, starting a new one after the case that killed the last. */
  async runShard(shard: number, cases: readonly number[]): Promise<void> {
    let remaining = cases;
    let failedStarts = 0;
    while (remaining.length > 0) {
      const { consumed, ready, stderr } = await this.runWorker(shard, remaining);
      if (!ready && consumed === 0) {
        failedStarts += 1;
        if (failedStarts >= 2) throw new Error(`the fuzz worker does not start (is the build broken? run npm run build):\n${stderr}`);
      } else failedStarts = 0;
      remaining = remaining.slice(consumed);
    }
  }

  killAll(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }

  private runWorker(shard: number, cases: readonly number[]): Promise<{ consumed: number; ready: boolean; stderr: string }> {
    const dir = path.join(this.base, `worker-${shard}`);
    fs.mkdirSync(dir, { recursive: true });
    const config: WorkerConfig = { seed: SEED, cases, base: dir, template: this.template };
    const child = fork(WORKER, [JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    this.children.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = `${stderr}${chunk.toString('utf8')}`.slice(-4000)));
    child.stdout?.resume();

    let ready = false;
    let done = false;
    let killed = false;
    let consumed = 0;
    let current: RunningCase | null = null;
    let command: { name: string; since: number } | null = null;
    let lastWord = Date.now();

    child.on('message', (message: WorkerMessage) => {
      lastWord = Date.now();
      if (message.type === 'ready') ready = true;
      else if (message.type === 'case') {
        const record = this.record(message.index);
        record.corruptions = message.corruptions;
        current = { record, dir: message.dir, fifos: message.fifos, fastFeed: false, fed: new Set() };
        command = null;
      } else if (message.type === 'command') command = { name: message.command, since: Date.now() };
      else if (message.type === 'result') {
        const record = this.record(message.index);
        record.failures.push(...message.failures);
        record.ms = message.ms;
        record.codes = message.codes;
        consumed += 1;
        current = null;
        command = null;
      } else done = true;
    });

    const timer = setInterval(() => {
      const now = Date.now();
      if (current && command && current.fifos > 0) this.feed(current, command, now, child.pid);
      const limit = ready ? HANG_MS : STARTUP_MS;
      if (!killed && now - lastWord > limit) {
        killed = true;
        const stuck = current;
        if (stuck) {
          const doing = command?.name ?? '(between commands)';
          stuck.record.failures.push({
            kind: 'hang-killed',
            command: doing,
            detail: `no word from the worker for ${limit} ms (feeding its FIFOs did not help); killed it`,
            signature: `${doing.split(' -- ')[0] ?? doing}: silent for ${limit} ms`,
          });
          consumed += 1;
        }
        child.kill('SIGKILL');
      }
    }, TICK_MS);

    return new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        clearInterval(timer);
        this.children.delete(child);
        if (!done && !killed && ready) {
          // Died on its own: charge the case it was in, or the one it was about to start.
          const index = current?.record.index ?? cases[consumed];
          if (index !== undefined) {
            this.record(index).failures.push({
              kind: 'worker-crash',
              command: command?.name ?? '(between commands)',
              detail: `the worker exited (code ${code}, signal ${signal}); its stderr ended with:\n${stderr.slice(-1500)}`,
              signature: `exit code ${code}, signal ${signal}`,
            });
            consumed += 1;
          }
        }
        resolve({ consumed, ready, stderr });
      });
    });
  }

  /**
   * Feeds the case's FIFOs (see feedFifo) once the command has run suspiciously long, or at once in
   * a case or run where FIFOs already proved to block. A FIFO that had a reader or writer waiting
   * is a hang of that command: recorded once per command and FIFO.
   */
  private feed(current: RunningCase, command: { name: string; since: number }, now: number, workerPid: number | undefined): void {
    const elapsed = now - command.since;
    const waited = elapsed >= FEED_AFTER_MS;
    if (!waited && !current.fastFeed && this.confirmedHangs < FAST_FEED_AFTER) return;
    for (const fifo of findFifos(current.dir)) {
      const who = feedFifo(fifo);
      if (who === null) continue;
      // Caught in the instant between a non-blocking open and its close: a look, not a wait.
      if (who === 'reader' && workerPid !== undefined && holdsWithoutBlocking(workerPid, fifo)) continue;
      if (waited && !current.fastFeed) this.confirmedHangs += 1;
      current.fastFeed = true;
      const rel = path.relative(current.dir, fifo);
      const key = `${command.name}|${rel}`;
      if (current.fed.has(key)) continue;
      current.fed.add(key);
      current.record.failures.push({
        kind: 'hang',
        command: command.name,
        detail: `${who === 'reader' ? 'opened for reading' : 'opened for writing'} the FIFO ${rel} and waited${waited ? ` ${elapsed} ms` : ''} until the watchdog gave it an end of file (it would have waited forever)`,
        signature: `${who === 'reader' ? 'reads' : 'writes'} a FIFO at ${pathShape(rel)}`,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The report

const KIND_ORDER: readonly FailureKind[] = [
  'harness',
  'canary',
  'mutation-escaped',
  'read-only-changed',
  'hang-killed',
  'hang',
  'worker-crash',
  'threw',
  'unhandled',
  'exit-code',
  'stack-trace',
  'js-error',
  'bad-json',
  'silent-failure',
  'slow',
];

const KIND_TITLE: Readonly<Record<FailureKind, string>> = {
  harness: 'HARNESS ERRORS (the test itself is wrong; fix these first)',
  canary: 'canary files inside, beside or outside the workspace changed',
  'mutation-escaped': 'restore/purge changed the workspace beyond the trash and the restored checkpoint',
  'read-only-changed': 'a read-only command changed the workspace',
  'hang-killed': 'hung for good (worker killed)',
  hang: 'hung on a FIFO (released by the watchdog)',
  'worker-crash': 'the worker process died',
  threw: 'main() threw instead of returning an exit code',
  unhandled: 'unhandled rejection or exception',
  'exit-code': 'exit code other than 0 or 1',
  'stack-trace': 'stack trace on stderr',
  'js-error': 'TypeError / RangeError / ReferenceError / internal error on stderr',
  'bad-json': '--json printed something that is not JSON',
  'silent-failure': 'exit code 1 with no message',
  slow: 'a command was slow',
};

const indent = (text: string, prefix: string): string =>
  text
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');

function summarize(records: readonly CaseRecord[]): { failedCases: number; text: string } {
  const groups = new Map<FailureKind, Map<string, { record: CaseRecord; failure: Failure }[]>>();
  for (const record of records) {
    for (const failure of record.failures) {
      const byKind = groups.get(failure.kind) ?? new Map<string, { record: CaseRecord; failure: Failure }[]>();
      groups.set(failure.kind, byKind);
      const list = byKind.get(failure.signature) ?? [];
      byKind.set(failure.signature, list);
      list.push({ record, failure });
    }
  }
  const failedCases = records.filter((r) => r.failures.length > 0).length;
  const lines: string[] = [];
  for (const kind of KIND_ORDER) {
    const byKind = groups.get(kind);
    if (!byKind) continue;
    const sorted = [...byKind.entries()].sort((a, b) => b[1].length - a[1].length);
    const cases = new Set(sorted.flatMap(([, list]) => list.map((e) => e.record.index))).size;
    lines.push('', `[${kind}] ${KIND_TITLE[kind]}: ${cases} cases, ${sorted.length} distinct`);
    for (const [signature, list] of sorted.slice(0, 12)) {
      lines.push(`  ${list.length}× ${signature}`);
      for (const { record, failure } of list.slice(0, 2)) {
        lines.push(`      case ${record.index} (FUZZ_SEED=${SEED} FUZZ_ONLY=${record.index}): ${record.corruptions.join(' + ')}`);
        lines.push(`        $ checkpoint-studio ${failure.command}`);
        lines.push(indent(failure.detail.slice(0, 500), '        '));
      }
    }
    if (sorted.length > 12) lines.push(`  … and ${sorted.length - 12} more distinct failures of this kind`);
  }
  return { failedCases, text: lines.join('\n') };
}

/** "ls 0×1990 1×10; verify 0×700 1×1300; …": evidence that the corruptions reach the commands. */
function exitCodeTally(records: readonly CaseRecord[]): string {
  const tally = new Map<string, Map<string, number>>();
  for (const record of records) {
    for (const [label, code] of Object.entries(record.codes)) {
      const byCode = tally.get(label) ?? new Map<string, number>();
      tally.set(label, byCode);
      const key = code === null ? 'threw' : String(code);
      byCode.set(key, (byCode.get(key) ?? 0) + 1);
    }
  }
  return [...tally]
    .map(
      ([label, byCode]) =>
        `${label} ${[...byCode]
          .sort()
          .map(([code, n]) => `${code}×${n}`)
          .join(' ')}`,
    )
    .join('; ');
}

// ---------------------------------------------------------------------------------------------

/** The worker runs compiled: refuse a dist/ older than this folder's sources rather than test stale code. */
function assertBuilt(): void {
  if (!fs.existsSync(WORKER)) throw new Error(`${WORKER} is missing: build first (npm run build; npm test does)`);
  for (const name of fs.readdirSync(path.dirname(fileURLToPath(import.meta.url)))) {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
    const compiled = path.join(ROOT, 'dist/test/fuzz', name.replace(/\.ts$/, '.js'));
    const source = path.join(ROOT, 'test/fuzz', name);
    if (!fs.existsSync(compiled) || fs.statSync(compiled).mtimeMs < fs.statSync(source).mtimeMs) {
      throw new Error(`${compiled} is older than ${source}: build first (npm run build)`);
    }
  }
}

describe('workspace fuzz', () => {
  let base = '';
  let template: Template | null = null;
  let fuzzer: Fuzzer | null = null;

  beforeAll(async () => {
    assertBuilt();
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-fuzz-'));
    template = await buildTemplate(path.join(base, 'template'));
  }, 60_000);

  afterAll(() => {
    fuzzer?.killAll();
    if (base) forceRemove(base);
  });

  const indices = ONLY ?? Array.from({ length: CASE_COUNT }, (_, i) => i);

  it(`${indices.length} corrupted workspaces (seed ${SEED}): no canary changes, no hang, no stack trace`, async () => {
    if (!template) throw new Error('no template');
    const started = Date.now();
    const run = new Fuzzer(base, template.dir);
    fuzzer = run;
    // Interleaved, so that a stretch of slow cases does not land on one worker.
    const shards = Array.from({ length: WORKERS }, (_, w) => indices.filter((_, i) => i % WORKERS === w));
    await Promise.all(shards.map((cases, w) => run.runShard(w, cases)));
    const records = indices.map((i) => run.record(i));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const { failedCases, text } = summarize(records);
    const header = [
      `workspace fuzz: seed ${SEED}, ${records.length} cases on ${WORKERS} workers in ${seconds} s; ${failedCases} cases failed`,
      `exit codes: ${exitCodeTally(records)}`,
      ...template.notes.map((n) => `note: ${n}`),
      `replay one case: FUZZ_SEED=${SEED} FUZZ_ONLY=<case> npx vitest run test/fuzz`,
    ].join('\n');
    console.log(header);
    const reportFile = process.env['FUZZ_REPORT'];
    if (reportFile) fs.writeFileSync(reportFile, `${JSON.stringify({ seed: SEED, seconds, records }, null, 1)}\n`);
    expect(failedCases, `${header}\n${text}\n`).toBe(0);
  }, 900_000);
});
