// The fuzz worker: a child process of workspace-fuzz.test.ts, run from its compiled form
// (dist/test/fuzz/fuzz-worker.js) against the compiled CLI. For each case it resets its case folder
// to the template, corrupts it, runs the CLI's commands in this process, and checks what they
// printed and what they left on disk. It says what it is about to do before every case and every command, so that the
// watchdog in the parent can name the command that hangs (a blocking open() of a FIFO freezes this
// whole thread: nothing in here could notice).
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { main } from '../../electron/cli.js';
import { CORRUPTIONS, type CorruptionContext, applyCorruption } from './corruptions.js';
import { Rng, caseSeed } from './prng.js';
import { type Failure, MUTATING_CHOICES, READ_ONLY_COMMANDS, type WorkerConfig, type WorkerMessage, isCanary } from './protocol.js';
import {
  CaseFolder,
  type EntryState,
  type TreeChange,
  describeChange,
  diffTrees,
  exactStateOf,
  findFifos,
  forceRemove,
  pathShape,
  snapshotTree,
} from './tree.js';

/** A command that takes this long on a workspace of a dozen small files is a failure even if it ends. */
const SLOW_MS = 5000;
const STACK_LINE = /^\s+at /m;
const JS_ERROR = /\b(?:TypeError|RangeError|ReferenceError)\b|internal error/i;

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;

function send(message: WorkerMessage, done?: () => void): void {
  if (!process.send) throw new Error('fuzz-worker must be started by workspace-fuzz.test.ts (child_process.fork)');
  process.send(message, undefined, {}, done);
}

// ---------------------------------------------------------------------------------------------
// Running one command in this process

interface Outcome {
  readonly code: number | null;
  readonly thrown: unknown;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** A stand-in for stream.write that keeps the text; calls the callback the way the stream would. */
function capturing(sink: string[]): typeof process.stdout.write {
  const write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((r): r is () => void => typeof r === 'function');
    if (callback) queueMicrotask(callback);
    return true;
  };
  return write as typeof process.stdout.write;
}

/** What failed in the command now running: unhandled rejections are charged to it. */
let running: { label: string; failures: Failure[] } | null = null;
/** Unhandled errors that surfaced between commands: charged to the next case. */
const stray: Failure[] = [];

function onUnhandled(kind: string): (reason: unknown) => void {
  return (reason) => {
    const text = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    const failure: Failure = {
      kind: 'unhandled',
      command: running?.label ?? '(between commands)',
      detail: `${kind}: ${text}`,
      signature: `${kind}: ${normalize(text, config.base)}`,
    };
    (running?.failures ?? stray).push(failure);
  };
}
process.on('unhandledRejection', onUnhandled('unhandled rejection'));
process.on('uncaughtException', onUnhandled('uncaught exception'));
// The parent is gone (the test was interrupted): nothing left to report to.
process.on('disconnect', () => process.exit(0));

async function runCli(argv: readonly string[]): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const original = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = capturing(out);
  process.stderr.write = capturing(err);
  const started = performance.now();
  let code: number | null = null;
  let thrown: unknown = null;
  try {
    code = await main(['node', 'checkpoint-studio', ...argv]);
  } catch (error) {
    thrown = error ?? new Error('main() rejected with nothing');
  } finally {
    process.stdout.write = original.out;
    process.stderr.write = original.err;
  }
  return { code, thrown, stdout: out.join(''), stderr: err.join(''), ms: performance.now() - started };
}

/** Makes failure texts comparable across cases: no case folder, step, entry name or number. */
function normalize(text: string, caseDir: string): string {
  return text
    .split(caseDir)
    .join('<case>')
    .replace(/ckpt-\d+/g, 'ckpt-N')
    .replace(/\.trash\/[^/\s:'"]+/g, '.trash/<entry>')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}

function firstLine(text: string, pattern?: RegExp): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return (pattern ? lines.find((l) => pattern.test(l)) : lines[0]) ?? '';
}

/** The checks every command must pass, whatever the workspace looks like. */
function checkOutcome(label: string, shown: string, outcome: Outcome, caseDir: string): Failure[] {
  const failures: Failure[] = [];
  // A crash's message names the bug wherever it surfaced; a silent exit or bad JSON is about the command.
  const byCommand = new Set<Failure['kind']>(['silent-failure', 'bad-json', 'slow']);
  const add = (kind: Failure['kind'], detail: string, signature: string): void => {
    failures.push({ kind, command: shown, detail, signature: byCommand.has(kind) ? `${label}: ${signature}` : signature });
  };
  if (outcome.thrown !== null) {
    const error = outcome.thrown;
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    add('threw', `main() rejected: ${text}`, normalize(text, caseDir));
  }
  if (outcome.code !== null && outcome.code !== 0 && outcome.code !== 1) {
    add(
      'exit-code',
      `exit code ${outcome.code}; stderr: ${firstLine(outcome.stderr)}`,
      `exit ${outcome.code}: ${normalize(firstLine(outcome.stderr), caseDir)}`,
    );
  }
  if (STACK_LINE.test(outcome.stderr)) {
    // The message and the innermost frame (file name only) identify the bug; line numbers would not survive an edit.
    const frame = firstLine(outcome.stderr, STACK_LINE)
      .trim()
      .replace(/\(?(?:file:\/\/)?[^\s()]*\/([^/\s():]+):\d+:\d+\)?/, '($1)');
    add('stack-trace', outcome.stderr.slice(0, 600), `${normalize(firstLine(outcome.stderr), caseDir)} | ${frame}`);
  }
  if (JS_ERROR.test(outcome.stderr)) {
    const line = firstLine(outcome.stderr, JS_ERROR);
    add('js-error', line.slice(0, 300), normalize(line, caseDir));
  }
  if (outcome.code === 1 && outcome.stdout.trim() === '' && outcome.stderr.trim() === '') {
    add('silent-failure', 'exit code 1 and nothing on stdout or stderr', 'exit 1, no output');
  }
  if (outcome.code === 0 && shown.split(' ').includes('--json')) {
    try {
      JSON.parse(outcome.stdout);
    } catch (error) {
      add('bad-json', `exit 0 but stdout is not JSON (${(error as Error).message}): ${outcome.stdout.slice(0, 200)}`, 'stdout is not JSON');
    }
  }
  if (outcome.ms > SLOW_MS) add('slow', `took ${Math.round(outcome.ms)} ms`, `slower than ${SLOW_MS} ms`);
  return failures;
}

// ---------------------------------------------------------------------------------------------
// What a command left on disk

type Snapshot = Map<string, EntryState>;

function only(tree: Snapshot, keep: (rel: string) => boolean): Snapshot {
  return new Map([...tree].filter(([rel]) => keep(rel)));
}

const isWorkspaceOwn = (rel: string): boolean => (rel === 'ws' || rel.startsWith('ws/')) && !isCanary(rel);
/** verify may write its cache at any time: `.studio/` belongs to the store. */
const isStudio = (rel: string): boolean => rel === 'ws/.studio' || rel.startsWith('ws/.studio/');

/** Drops what is inside a folder that was itself deleted or created: "ws: deleted" says it all. */
function outermost(changes: readonly TreeChange[]): TreeChange[] {
  const whole = changes.filter((c) => c.before === undefined || c.after === undefined).map((c) => `${c.path}/`);
  return changes.filter((c) => !whole.some((w) => c.path.startsWith(w) && (c.before === undefined || c.after === undefined)));
}

function changeList(all: readonly TreeChange[]): string {
  const changes = outermost(all);
  const shown = changes.slice(0, 8).map(describeChange).join('; ');
  return changes.length > 8 ? `${shown}; … (${changes.length} changes)` : shown;
}

function changeSignature(all: readonly TreeChange[]): string {
  const shapes = new Set(outermost(all).map((c) => describeChange({ ...c, path: pathShape(c.path) })));
  const list = [...shapes].sort();
  return list.length > 6 ? `${list.slice(0, 6).join('; ')}; …` : list.join('; ');
}

interface CaseChecks {
  readonly baseline: Snapshot;
  previous: Snapshot;
  /** Canary changes already reported, so each is charged once, to the first command that made it. */
  readonly reported: Set<string>;
  readonly failures: Failure[];
}

function checkCanaries(checks: CaseChecks, now: Snapshot, label: string, shown: string): void {
  const fresh = diffTrees(only(checks.baseline, isCanary), only(now, isCanary)).filter((c) => !checks.reported.has(describeChange(c)));
  if (fresh.length === 0) return;
  for (const change of fresh) checks.reported.add(describeChange(change));
  checks.failures.push({ kind: 'canary', command: shown, detail: changeList(fresh), signature: `${label}: ${changeSignature(fresh)}` });
}

/** A read-only command may write the verification cache, and nothing else. */
function checkReadOnly(checks: CaseChecks, now: Snapshot, label: string, shown: string): void {
  const changes = diffTrees(only(checks.previous, isWorkspaceOwn), only(now, isWorkspaceOwn)).filter((c) => !isStudio(c.path));
  if (changes.length > 0) {
    checks.failures.push({ kind: 'read-only-changed', command: shown, detail: changeList(changes), signature: `${label}: ${changeSignature(changes)}` });
  }
}

/**
 * Restore and purge may change the trash and the cache, and restore may create a checkpoint folder
 * (and its run folder); anything else in the workspace must stay as it was.
 */
function checkMutation(checks: CaseChecks, now: Snapshot, label: string, shown: string): void {
  const escaped = diffTrees(only(checks.previous, isWorkspaceOwn), only(now, isWorkspaceOwn)).filter((c) => {
    if (isStudio(c.path) || c.path.startsWith('ws/.trash/') || c.path === 'ws/.trash') return false;
    const parts = c.path.split('/').slice(1);
    const created = c.before === undefined;
    if (created && parts.length === 1 && c.after?.startsWith('dir ')) return false;
    if (created && parts.length >= 2 && /^ckpt-\d+$/.test(parts[1] ?? '')) return false;
    return true;
  });
  if (escaped.length > 0) {
    checks.failures.push({ kind: 'mutation-escaped', command: shown, detail: changeList(escaped), signature: `${label}: ${changeSignature(escaped)}` });
  }
}

// ---------------------------------------------------------------------------------------------
// Cases

interface TemplateInfo {
  /** Where the cases run, reset to the template before each. */
  readonly folder: CaseFolder;
  readonly runs: readonly string[];
  readonly checkpoints: readonly string[];
  readonly trashEntries: readonly string[];
}

function describeTemplate(template: string): TemplateInfo {
  const ws = path.join(template, 'ws');
  const dirs = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  const runs = dirs(ws).filter((name) => !name.startsWith('.') && fs.existsSync(path.join(ws, name, 'run.json')));
  const trashEntries = fs.existsSync(path.join(ws, '.trash')) ? dirs(path.join(ws, '.trash')) : [];
  const checkpoints = [
    ...runs.flatMap((run) =>
      dirs(path.join(ws, run))
        .filter((n) => /^ckpt-\d+$/.test(n))
        .map((n) => `${run}/${n}`),
    ),
    ...trashEntries.map((entry) => `.trash/${entry}/payload`),
  ];
  return { folder: new CaseFolder(path.join(config.base, 'case'), template), runs, checkpoints, trashEntries };
}

interface Command {
  /** What failures are grouped by: the command without its varying argument. */
  readonly label: string;
  readonly argv: readonly string[];
}

function readOnly(args: readonly string[], ws: string): Command {
  return { label: args.join(' '), argv: [...args, '--workspace', ws] };
}

function trashIds(listing: Outcome | undefined): string[] {
  if (!listing || listing.code !== 0) return [];
  try {
    const parsed: unknown = JSON.parse(listing.stdout);
    if (!Array.isArray(parsed)) return [];
    return parsed.flatMap((e: unknown) =>
      typeof e === 'object' && e !== null && typeof (e as { id?: unknown }).id === 'string' ? [(e as { id: string }).id] : [],
    );
  } catch {
    return [];
  }
}

async function runCase(index: number, info: TemplateInfo): Promise<{ failures: Failure[]; ms: number; codes: Record<string, number | null> }> {
  const started = performance.now();
  const seed = caseSeed(config.seed, index);
  const rng = new Rng(seed);
  // One folder per worker, reset to the template before each case (see CaseFolder).
  const caseDir = info.folder.dir;
  const ws = path.join(caseDir, 'ws');
  const failures: Failure[] = stray.splice(0);
  if (!info.folder.reset()) {
    failures.push({ kind: 'harness', command: 'reset', detail: `${caseDir} could not be made identical to the template`, signature: 'reset failed' });
  }
  const ctx: CorruptionContext = { rng, caseDir, ws, runs: info.runs, checkpoints: info.checkpoints, trashEntries: info.trashEntries };
  const corruptions: string[] = [];
  for (let n = rng.int(1, 4); n > 0; n -= 1) {
    const corruption = rng.pick(CORRUPTIONS);
    try {
      corruptions.push(applyCorruption(corruption, ctx));
    } catch (error) {
      corruptions.push(`${corruption.name} (harness error)`);
      failures.push({
        kind: 'harness',
        command: 'corrupt',
        detail: `${corruption.name}: ${(error as Error).stack ?? String(error)}`,
        signature: corruption.name,
      });
    }
  }
  // Drawn before any command runs, so the choice never depends on what the product printed.
  const mutating = rng.pick(MUTATING_CHOICES);
  const draw = rng.int(0, 2 ** 30);
  send({ type: 'case', index, caseSeed: seed, dir: caseDir, corruptions, fifos: findFifos(caseDir).length });

  const checks: CaseChecks = { baseline: snapshotTree(caseDir), previous: new Map(), reported: new Set(), failures };
  checks.previous = checks.baseline;
  const outputs = new Map<string, Outcome>();
  const run = async (command: Command, after: (now: Snapshot, shown: string) => void): Promise<void> => {
    const shown = command.argv
      .filter((a) => a !== ws)
      .join(' ')
      .replace(/ --workspace\b/, '');
    send({ type: 'command', index, command: shown });
    running = { label: command.label, failures };
    const outcome = await runCli(command.argv);
    running = null;
    outputs.set(command.label, outcome);
    failures.push(...checkOutcome(command.label, shown, outcome, caseDir));
    const now = snapshotTree(caseDir);
    checkCanaries(checks, now, command.label, shown);
    after(now, shown);
    checks.previous = now;
  };

  for (const args of READ_ONLY_COMMANDS) {
    const command = readOnly(args, ws);
    await run(command, (now, shown) => checkReadOnly(checks, now, command.label, shown));
  }

  let change: Command;
  if (mutating === 'purge') change = readOnly(['trash', 'purge'], ws);
  else if (mutating === 'restore-last') change = readOnly(['trash', 'restore', '--last'], ws);
  else {
    // An id the product itself lists; when it lists none, one of the template's entries.
    const listing = readOnly(['trash', 'ls', '--json'], ws);
    await run(listing, (now, shown) => checkReadOnly(checks, now, listing.label, shown));
    const ids = trashIds(outputs.get(listing.label));
    const fallback = info.trashEntries.length > 0 ? (info.trashEntries[draw % info.trashEntries.length] as string) : 'no-such-entry';
    const id = ids.length > 0 ? (ids[draw % ids.length] as string) : fallback;
    // `--` so that an id starting with "-" stays an id (a usage error here would be ours, not the product's).
    change = { label: 'trash restore <id>', argv: ['trash', 'restore', '--workspace', ws, '--', id] };
  }
  await run(change, (now, shown) => checkMutation(checks, now, change.label, shown));

  // The snapshots compare inodes and ctimes; the canaries are also compared byte for byte.
  const differing = [...checks.baseline.keys()].filter((rel) => {
    if (!isCanary(rel)) return false;
    const expected = info.folder.expectedState(rel);
    const seen = [...checks.reported].some((reported) => reported.startsWith(`${rel}: `));
    return !seen && expected !== undefined && exactStateOf(caseDir, rel) !== expected;
  });
  if (differing.length > 0) {
    failures.push({
      kind: 'canary',
      command: '(end of case)',
      detail: `not byte-identical: ${differing.join(', ')}`,
      signature: `end of case: ${differing.map(pathShape).join(', ')}`,
    });
  }

  const codes = Object.fromEntries([...outputs].map(([label, outcome]) => [label, outcome.code]));
  return { failures, ms: performance.now() - started, codes };
}

async function runAll(): Promise<void> {
  const info = describeTemplate(config.template);
  send({ type: 'ready' });
  for (const index of config.cases) {
    try {
      const { failures, ms, codes } = await runCase(index, info);
      send({ type: 'result', index, failures, ms, codes });
    } catch (error) {
      // The product's failures are all caught in runCli: whatever gets here is the harness's own.
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      send({ type: 'result', index, failures: [{ kind: 'harness', command: 'case', detail, signature: detail.split('\n')[0] ?? detail }], ms: 0, codes: {} });
    }
  }
  forceRemove(path.join(config.base, 'case'));
  send({ type: 'done' }, () => process.disconnect());
}

await runAll();
