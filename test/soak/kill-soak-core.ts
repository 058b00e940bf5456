// The kill soak: SIGKILL a real `checkpoint-studio train` that saves every step, at random
// moments, and after each kill check with the real command what a user relies on: every listed
// checkpoint verifies, nothing complete before the kill is lost, the run can be retried, and
// `latest` resumes. Shared by `npm run soak:kill` (kill-soak.ts) and the short vitest test.
//
// Everything goes through the built CLI in separate processes, as on a training server: the
// store's own classes are never imported, so the soak judges the product from the outside and
// keeps working while the store and the trainer are rewritten underneath it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export interface SoakOptions {
  /** How many kills must land (trainers that finish before their kill do not count). */
  readonly count: number;
  readonly seed: number;
  /** Use this folder (created if needed, never deleted) instead of a temporary one that is removed at the end. */
  readonly workspace?: string;
  readonly log?: (line: string) => void;
  /** Steps of each trainer session; the default spends most of a trainer's life saving. */
  readonly maxSteps?: number;
  /** Aborting kills the trainer in flight and ends the soak with the iterations done so far. */
  readonly signal?: AbortSignal;
}

/** Where a kill landed, judged from evidence left behind (see classifyKill()). */
export type KillClass = 'start-up' | 'training' | 'mid-save' | 'after-save';
export const KILL_CLASSES: readonly KillClass[] = ['start-up', 'training', 'mid-save', 'after-save'];
const CLASS_LABELS: Readonly<Record<KillClass, string>> = {
  'start-up': 'start-up',
  training: 'training',
  'mid-save': 'mid-save',
  'after-save': 'after save/retention',
};

export type ViolationKind =
  | 'cli-failed'
  | 'listed-damaged'
  | 'listed-incomplete'
  | 'listed-temporary'
  | 'verify-failed'
  | 'temporary-left'
  | 'lost'
  | 'latest-failed'
  | 'retry-same-run-failed'
  | 'retry-resume-failed'
  | 'trainer-failed'
  | 'stdout-not-json';

export interface Violation {
  readonly iteration: number;
  readonly seed: number;
  /** The kill moment on the calibrated trainer's timeline (see runKillSoak). */
  readonly delayMs: number;
  readonly killClass: KillClass | 'not killed';
  readonly kind: ViolationKind;
  readonly details: string;
}

export interface IterationRecord {
  readonly iteration: number;
  readonly run: string;
  readonly mode: 'fresh' | 'resume';
  readonly delayMs: number;
  /** False when the trainer exited on its own before the kill was due. */
  readonly killed: boolean;
  readonly killClass: KillClass | 'not killed';
  /** The evidence the class was judged from, in words. */
  readonly evidence: string;
  readonly violations: number;
  readonly ms: number;
}

export interface SoakReport {
  readonly seed: number;
  readonly count: number;
  readonly workspace: string;
  readonly maxSteps: number;
  /** The uninterrupted trainer's duration, spawn to exit: kills are drawn within it. */
  readonly calibrationMs: number;
  /** When, within calibrationMs, the uninterrupted trainer printed `started`. */
  readonly calibrationStartedMs: number;
  readonly totalMs: number;
  readonly kills: number;
  /** Trainers that finished before their kill was due (counted apart, not as kills). */
  readonly missed: number;
  readonly classes: Readonly<Record<KillClass, number>>;
  /**
   * Kills after which the run held more complete checkpoints than keep-last: its retention
   * passes had not caught up with its saves (they run between training steps).
   */
  readonly retentionOwed: number;
  /** The most complete checkpoints one killed run held (keep-last is 2). */
  readonly mostHeld: number;
  readonly iterations: readonly IterationRecord[];
  readonly violations: readonly Violation[];
  readonly aborted: boolean;
}

/**
 * Enough steps that a trainer spends most of its life training and saving rather than starting
 * up (loading tfjs takes a second or more), few enough that a kill costs seconds.
 */
const DEFAULT_MAX_STEPS = 100;
/** Keep-last 2 makes every save after the second one end with a retention pass that trashes one. */
const KEEP_LAST = 2;
/** Retention fills the trash at every step; purging now and then keeps a long soak's disk use flat. */
const PURGE_EVERY = 5;
const CLI_TIMEOUT_MS = 180_000;

/**
 * The repository root, found from this file's own location: the source runs from test/soak/
 * under vitest and the compiled copy from dist/test/soak/, so walk up to the folder holding the
 * command's launcher rather than counting levels.
 */
export function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'bin', 'checkpoint-studio.js'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no checkpoint-studio repository above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** mulberry32: a tiny seeded generator, so a seed always draws the same kill moments. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- what the CLI prints with --json, parsed to the fields the checks need -------------------

const ListingSchema = z.object({
  checkpoints: z.array(
    z.object({ id: z.string(), run: z.string(), step: z.number(), path: z.string(), status: z.string(), statusReason: z.string().nullable().optional() }),
  ),
});
const VerifySchema = z.array(z.object({ path: z.string(), ok: z.boolean(), problems: z.array(z.unknown()) }));
const TrashSchema = z.array(z.object({ id: z.string(), checkpointId: z.string() }));
const LatestSchema = z.object({ id: z.string(), run: z.string(), step: z.number(), path: z.string() });
const RefSchema = z.object({ run: z.string(), step: z.number() });
const EventSchema = z.object({
  type: z.string(),
  step: z.number().optional(),
  run: z.string().optional(),
  resumedFrom: RefSchema.nullable().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
type TrainerEvent = z.infer<typeof EventSchema>;

function parseJson<T>(schema: z.ZodType<T>, text: string): { ok: true; value: T } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON (${(error as Error).message}): ${clip(text)}` };
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, error: `unexpected shape: ${parsed.error.message.slice(0, 300)}` };
}

function clip(text: string, max = 400): string {
  const flat = text.trim().replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function lastLines(text: string, n = 3): string {
  return clip(text.trim().split('\n').slice(-n).join(' | '));
}

// ---- processes -------------------------------------------------------------------------------

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Live process groups, so an abort (or a crash of the soak) never leaves a trainer behind. */
const liveGroups = new Set<number>();

function killGroup(pid: number): void {
  try {
    // The negative pid is the whole group: today `train` trains in its own process, soon in a
    // child of it; both die together, as they would under the OOM killer or a power cut.
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone: nothing to kill.
  }
}

/** A running `checkpoint-studio`, in its own process group, with its output collected. */
class CliProcess {
  readonly child: ChildProcess;
  readonly events: TrainerEvent[] = [];
  /** Complete stdout lines that are not JSON events: --json promises events only. */
  readonly strayLines: string[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  /** Resolves when the `started` event arrives (never, for a trainer that dies before it). */
  readonly started: Promise<void>;
  private onStarted: () => void = () => undefined;
  private pending = '';

  constructor(
    bin: string,
    args: readonly string[],
    private readonly eventStream: boolean,
  ) {
    this.started = new Promise((resolve) => (this.onStarted = resolve));
    this.child = spawn(process.execPath, [bin, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = this.child.pid;
    if (pid !== undefined) liveGroups.add(pid);
    this.child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk.toString('utf8')));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    // 'close' rather than 'exit': every event written before the kill is read from the pipe.
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.stderr += `\nspawn failed: ${error.message}`;
        resolve({ code: null, signal: null });
      });
      this.child.on('close', (code, signal) => {
        if (pid !== undefined) liveGroups.delete(pid);
        resolve({ code, signal });
      });
    });
  }

  private onStdout(text: string): void {
    this.stdout += text;
    if (!this.eventStream) return;
    this.pending += text;
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      if (line.trim() === '') continue;
      const parsed = parseJson(EventSchema, line);
      if (parsed.ok) {
        this.events.push(parsed.value);
        if (parsed.value.type === 'started') this.onStarted();
      } else this.strayLines.push(line);
    }
  }

  kill(): void {
    if (this.child.pid !== undefined) killGroup(this.child.pid);
  }

  first(type: string): TrainerEvent | undefined {
    return this.events.find((e) => e.type === type);
  }
}

/** Waits for a process; a hung one must not hang the soak, so it is killed (and then fails a check). */
async function finish(proc: CliProcess): Promise<Exit> {
  const timer = setTimeout(() => {
    proc.stderr += `\nkilled by the soak after ${CLI_TIMEOUT_MS / 1000} s without exiting`;
    proc.kill();
  }, CLI_TIMEOUT_MS);
  const exit = await proc.exited;
  clearTimeout(timer);
  return exit;
}

interface CliResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

// ---- the folder, read directly (FORMAT.md §1, §3, §8) ----------------------------------------

const CHECKPOINT_DIR = /^ckpt-\d+$/;

function dirNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function runNames(workspace: string): string[] {
  return dirNames(workspace).filter((n) => !n.startsWith('.'));
}

/**
 * Complete checkpoints on disk, as `run/ckpt-…` ids: a checkpoint appears by an atomic rename of
 * a folder whose manifest.json was written last, so a named folder with a manifest is complete.
 */
function completeCheckpoints(workspace: string): Set<string> {
  const ids = new Set<string>();
  for (const run of runNames(workspace)) {
    for (const name of dirNames(path.join(workspace, run))) {
      if (CHECKPOINT_DIR.test(name) && existsSync(path.join(workspace, run, name, 'manifest.json'))) ids.add(`${run}/${name}`);
    }
  }
  return ids;
}

/** Temporary names (`.tmp-…`) directly in the workspace or in a run folder. */
function temporaries(workspace: string): string[] {
  const found: string[] = [];
  const scan = (dir: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) if (name.startsWith('.tmp-')) found.push(`${prefix}${name}`);
  };
  scan(workspace, '');
  for (const run of runNames(workspace)) scan(path.join(workspace, run), `${run}/`);
  return found;
}

/** A checkpoint being written: a temporary folder whose name carries the checkpoint's folder name. */
function checkpointsInFlight(runDir: string): string[] {
  return dirNames(runDir).filter((n) => n.startsWith('.tmp-') && n.includes('ckpt-'));
}

/** The last step whose training record reached metrics.jsonl (the trainer runs with --log-every 1). */
function lastLoggedStep(runDir: string): number | null {
  let text: string;
  try {
    text = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
  } catch {
    return null;
  }
  let last: number | null = null;
  for (const line of text.split('\n')) {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      // A torn last line (killed mid-append) is expected, and readers skip it too.
      continue;
    }
    const parsed = z.object({ kind: z.literal('train'), step: z.number() }).safeParse(record);
    if (parsed.success && (last === null || parsed.data.step > last)) last = parsed.data.step;
  }
  return last;
}

export interface KillEvidence {
  /** The trainer printed its `started` event (start-up was over: data loaded, run created). */
  readonly started: boolean;
  /** Temporary checkpoint folders left in the run: saves cut off before their rename. */
  readonly savesInFlight: number;
  /** The last step metrics.jsonl records as trained. */
  readonly lastLoggedStep: number | null;
  /** Steps of the `checkpoint` events printed: saves on disk, their bookkeeping to follow. */
  readonly savedSteps: ReadonlySet<number | undefined>;
}

/**
 * Where the kill landed: before `started`, start-up (process start, tfjs, data, run creation);
 * with a save cut off, mid-save; with the last trained step already saved, during that save's
 * bookkeeping and retention pass (or the exit after it); otherwise between steps.
 */
export function classifyKill(evidence: KillEvidence): KillClass {
  if (!evidence.started) return 'start-up';
  if (evidence.savesInFlight > 0) return 'mid-save';
  if (evidence.lastLoggedStep !== null && evidence.savedSteps.has(evidence.lastLoggedStep)) return 'after-save';
  return 'training';
}

// ---- the soak --------------------------------------------------------------------------------

/** A kill moment as the soak aims it: from the spawn within start-up, from `started` after it. */
function describeMoment(delayMs: number, startedMs: number): string {
  return delayMs < startedMs ? `${Math.round(delayMs)} ms after the spawn` : `${Math.round(delayMs - startedMs)} ms after started`;
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** The one-line result, as quoted in the README. */
export function formatSummary(report: SoakReport): string {
  const classes = KILL_CLASSES.map((c) => `${CLASS_LABELS[c]} ${report.classes[c]}`).join(', ');
  const missed = report.missed > 0 ? `; finished before the kill: ${report.missed}` : '';
  return `kill soak: ${report.kills} kill${report.kills === 1 ? '' : 's'} in ${formatDuration(report.totalMs)} (seed ${report.seed}): ${classes}${missed}; violations: ${report.violations.length}`;
}

/** Summary line, rate, and one line per violation. */
export function formatReport(report: SoakReport): string {
  const perMinute = report.kills / Math.max(report.totalMs / 60_000, 1e-9);
  const lines = [
    formatSummary(report),
    `${perMinute.toFixed(1)} kills/minute; trainer: ${report.maxSteps} steps saving every step, keep-last ${KEEP_LAST}, uninterrupted ${Math.round(report.calibrationMs)} ms (started after ${Math.round(report.calibrationStartedMs)} ms); workspace ${report.workspace}${report.aborted ? '; ABORTED' : ''}`,
    `retention behind its saves at ${report.retentionOwed} of ${report.kills} kills; the most checkpoints a killed run held: ${report.mostHeld}`,
  ];
  const byKind = new Map<string, number>();
  for (const v of report.violations) byKind.set(v.kind, (byKind.get(v.kind) ?? 0) + 1);
  if (byKind.size > 0) lines.push(`violations by kind: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const v of report.violations) {
    lines.push(`  #${v.iteration} (seed ${v.seed}, kill ${describeMoment(v.delayMs, report.calibrationStartedMs)}, ${v.killClass}): ${v.kind}: ${v.details}`);
  }
  return lines.join('\n');
}

export async function runKillSoak(options: SoakOptions): Promise<SoakReport> {
  if (!Number.isSafeInteger(options.count) || options.count < 1) throw new Error(`count must be a positive whole number, not ${options.count}`);
  const log = options.log ?? (() => undefined);
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const root = repositoryRoot();
  const bin = path.join(root, 'bin', 'checkpoint-studio.js');
  if (!existsSync(path.join(root, 'dist', 'electron', 'cli.js'))) throw new Error('the command is not built: run `npm run build` first');

  const scratch = mkdtempSync(path.join(os.tmpdir(), 'kill-soak-'));
  const workspace = options.workspace ? path.resolve(options.workspace) : path.join(scratch, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const onAbort = (): void => {
    for (const pid of liveGroups) killGroup(pid);
  };
  options.signal?.addEventListener('abort', onAbort);

  const cli = async (args: readonly string[], ws = workspace): Promise<CliResult> => {
    const proc = new CliProcess(bin, [...args, '--workspace', ws], false);
    const exit = await finish(proc);
    return { ...exit, stdout: proc.stdout, stderr: proc.stderr };
  };
  const trainer = (args: readonly string[], ws = workspace): CliProcess => new CliProcess(bin, [...args, '--workspace', ws], true);

  // Small and quick, but saving every step with a retention pass after each save (keep-last),
  // so a random moment is likely to fall into a save or a retention pass. --log-every 1 leaves a
  // record of each finished step, which tells where a kill landed. Many epochs: a chain of
  // resumed runs must never reach the end of training.
  const common = ['--save-every-steps', '1', '--keep-last', String(KEEP_LAST), '--backend', 'cpu', '--log-every', '1', '--json'];
  const freshArgs = (run: string, steps: number): string[] => [
    'train',
    '--run',
    run,
    '--model',
    'mlp',
    '--width',
    '16',
    '--train-limit',
    '512',
    '--validation',
    '128',
    '--batch-size',
    '32',
    '--epochs',
    '10000',
    '--max-steps',
    String(steps),
    ...common,
  ];
  const resumeArgs = (run: string, steps: number): string[] => ['train', '--resume', 'latest', '--run', run, '--max-steps', String(steps), ...common];

  const started = performance.now();
  const iterations: IterationRecord[] = [];
  const violations: Violation[] = [];
  const classes: Record<KillClass, number> = { 'start-up': 0, training: 0, 'mid-save': 0, 'after-save': 0 };
  let kills = 0;
  let missed = 0;
  let calibrationMs = 0;
  let calibrationStartedMs = 0;
  let retentionOwed = 0;
  let mostHeld = 0;

  try {
    // Calibration: one uninterrupted trainer, in a workspace of its own so the soak's starts
    // empty. The first trainer after a build reads tfjs, the dataset and our code from a cold
    // cache and takes two to three times as long as the next ones; timed, it would put most
    // kills after the trainers had finished. So one short untimed run warms the cache first.
    const calibrationWs = path.join(scratch, 'calibration');
    const warmUp = trainer(freshArgs('warm-up', 1), calibrationWs);
    const warmUpExit = await finish(warmUp);
    if (warmUpExit.code !== 0) throw new Error(`the trainer does not run (exit ${warmUpExit.code ?? warmUpExit.signal}): ${lastLines(warmUp.stderr, 6)}`);
    const t0 = performance.now();
    const calibration = trainer(freshArgs('calibration', maxSteps), calibrationWs);
    void calibration.started.then(() => (calibrationStartedMs = performance.now() - t0));
    const calibrationExit = await finish(calibration);
    calibrationMs = performance.now() - t0;
    rmSync(calibrationWs, { recursive: true, force: true });
    if (calibrationExit.code !== 0) {
      throw new Error(`the uninterrupted trainer failed (exit ${calibrationExit.code ?? calibrationExit.signal}): ${lastLines(calibration.stderr, 6)}`);
    }
    log(
      `calibration: an uninterrupted trainer (${maxSteps} steps, saving every step) takes ${Math.round(calibrationMs)} ms, started after ${Math.round(calibrationStartedMs)} ms; kill moments are drawn uniformly within it`,
    );

    const random = prng(options.seed);
    // A trainer that keeps finishing before its kill (or failing at once) must not loop forever.
    const maxIterations = options.count * 2 + 10;
    for (let i = 0; kills < options.count && i < maxIterations && !options.signal?.aborted; i += 1) {
      const iterationStart = performance.now();
      const run = `soak-${i}`;
      const runDir = path.join(workspace, run);
      // Complete before the trainer starts (a trainer touching another run is caught too).
      // Alternate fresh runs and continuations of the workspace's latest, when there is one.
      const before = completeCheckpoints(workspace);
      const mode: 'fresh' | 'resume' = i % 2 === 1 && before.size > 0 ? 'resume' : 'fresh';
      // Drawn whatever happens, so iteration i always gets the same fraction for a seed.
      const fraction = random();
      const delayMs = fraction * calibrationMs;
      const found: { kind: ViolationKind; details: string }[] = [];
      const violate = (kind: ViolationKind, details: string): void => {
        found.push({ kind, details });
      };

      const proc = trainer(mode === 'fresh' ? freshArgs(run, maxSteps) : resumeArgs(run, maxSteps));
      // A moment within start-up is timed from the spawn; a later one from the `started` event,
      // as far after it as in the calibrated run. On a shared machine start-up (loading tfjs)
      // swings by a second or more with the load; timed from the spawn alone, a busy spell would
      // turn most kills into start-up kills and a quiet one make trainers finish first.
      let exited = false;
      let killTimer: NodeJS.Timeout | undefined;
      const arm = (waitMs: number): void => {
        if (exited) return;
        killTimer = setTimeout(() => {
          // Just before the kill: whatever is complete now must survive it.
          for (const id of completeCheckpoints(workspace)) before.add(id);
          proc.kill();
        }, waitMs);
      };
      if (delayMs < calibrationStartedMs) arm(delayMs);
      else void proc.started.then(() => arm(delayMs - calibrationStartedMs));
      const exit = await finish(proc);
      exited = true;
      clearTimeout(killTimer);
      // The command is dead; its trainer child, killed with it, may still be finishing an fsync
      // it cannot be interrupted in. Until it is gone its temporaries are rightly kept.
      await writersGone(workspace);
      // Interrupted by the caller: that kill was ours, not a moment of the soak.
      if (options.signal?.aborted) break;
      // Only a death by our signal is a kill; a trainer that exited first was not interrupted.
      const killed = exit.signal === 'SIGKILL';

      // Evidence first: a command that opens the workspace to write clears a dead writer's temporaries.
      const inFlight = checkpointsInFlight(runDir);
      const loggedStep = lastLoggedStep(runDir);
      const startedEvent = proc.first('started');
      const savedSteps = new Set(proc.events.filter((e) => e.type === 'checkpoint').map((e) => e.step));
      const runFolder = existsSync(runDir)
        ? existsSync(path.join(runDir, 'run.json'))
          ? 'run folder with run.json'
          : 'run folder without run.json'
        : 'no run folder';
      let killClass: KillClass | 'not killed';
      let evidence: string;
      if (!killed) {
        killClass = 'not killed';
        evidence = `exited ${exit.code ?? exit.signal} before the kill`;
        missed += 1;
        if (exit.code !== 0) violate('trainer-failed', `exit ${exit.code ?? exit.signal} before any kill: ${lastLines(proc.stderr)}`);
      } else {
        killClass = classifyKill({ started: startedEvent !== undefined, savesInFlight: inFlight.length, lastLoggedStep: loggedStep, savedSteps });
        // More checkpoints than keep-last in the run: retention had not caught up at the kill.
        const held = [...completeCheckpoints(workspace)].filter((id) => id.startsWith(`${run}/`)).length;
        mostHeld = Math.max(mostHeld, held);
        if (held > KEEP_LAST) retentionOwed += 1;
        evidence = [
          startedEvent ? 'started' : 'no started event',
          runFolder,
          `last logged step ${loggedStep ?? '-'}`,
          `checkpoint events ${savedSteps.size}`,
          `saves in flight ${inFlight.length}`,
          `${held} complete in the run`,
        ].join('; ');
        kills += 1;
        classes[killClass] += 1;
      }
      for (const line of proc.strayLines) violate('stdout-not-json', `train --json printed a line that is not an event: ${clip(line, 200)}`);

      await checkAfterKill({ cli, trainer, workspace, run, mode, before, violate, freshArgs, resumeArgs });
      // Interrupted during the checks: the abort killed their commands, so their verdicts mean nothing.
      if (options.signal?.aborted) break;

      if ((i + 1) % PURGE_EVERY === 0) {
        const purge = await cli(['trash', 'purge', '--json']);
        if (purge.code !== 0) violate('cli-failed', `trash purge exit ${purge.code ?? purge.signal}: ${lastLines(purge.stderr)}`);
      }

      for (const v of found) violations.push({ iteration: i, seed: options.seed, delayMs, killClass, ...v });
      const ms = performance.now() - iterationStart;
      iterations.push({ iteration: i, run, mode, delayMs, killed, killClass, evidence, violations: found.length, ms });
      const verdict = found.length === 0 ? 'ok' : found.map((v) => `${v.kind}: ${clip(v.details, 160)}`).join('; ');
      const moment = describeMoment(delayMs, calibrationStartedMs);
      log(
        `[${String(kills).padStart(String(options.count).length)}/${options.count}] #${i} ${mode} ${run}, kill ${moment}: ${killClass} (${evidence}) — ${verdict}`,
      );
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    onAbort();
    // The soak's own temporary folder goes; a workspace the caller named stays, for inspection.
    rmSync(scratch, { recursive: true, force: true });
  }

  return {
    seed: options.seed,
    count: options.count,
    workspace,
    maxSteps,
    calibrationMs,
    calibrationStartedMs,
    totalMs: performance.now() - started,
    kills,
    missed,
    classes,
    retentionOwed,
    mostHeld,
    iterations,
    violations,
    aborted: options.signal?.aborted ?? false,
  };
}

interface CheckContext {
  readonly cli: (args: readonly string[]) => Promise<CliResult>;
  readonly trainer: (args: readonly string[]) => CliProcess;
  readonly workspace: string;
  readonly run: string;
  readonly mode: 'fresh' | 'resume';
  readonly before: ReadonlySet<string>;
  readonly violate: (kind: ViolationKind, details: string) => void;
  readonly freshArgs: (run: string, steps: number) => string[];
  readonly resumeArgs: (run: string, steps: number) => string[];
}

/** The invariants after one kill, each failure reported through ctx.violate. */
async function checkAfterKill(ctx: CheckContext): Promise<void> {
  const { cli, workspace, run, violate } = ctx;

  // The four reading commands see the same folder (nothing writes until the retry below), so
  // they run side by side: the checks cost a fraction of a soak's time instead of most of it.
  const [ls, verify, trash, latestCall] = await Promise.all([
    cli(['ls', '--json']),
    cli(['verify', '--json']),
    cli(['trash', 'ls', '--json']),
    cli(['latest', '--json']),
  ]);

  // (a) Every listed checkpoint is whole and verifies; nothing half-written is listed.
  const listing = ls.code === 0 ? parseJson(ListingSchema, ls.stdout) : null;
  if (!listing?.ok) {
    violate('cli-failed', `ls --json: exit ${ls.code ?? ls.signal}: ${listing ? listing.error : lastLines(ls.stderr)}`);
    return;
  }
  const listed = listing.value.checkpoints;
  for (const c of listed) {
    if (c.status === 'damaged') violate('listed-damaged', `${c.id} is listed as damaged: ${c.statusReason ?? 'no reason given'}`);
    if (c.status === 'incomplete') violate('listed-incomplete', `${c.id} is listed as incomplete: ${c.statusReason ?? 'no reason given'}`);
    if (c.path.includes(`${path.sep}.tmp-`) || c.id.includes('.tmp-')) violate('listed-temporary', `${c.id} (${c.path}) is a write in progress, yet listed`);
  }
  const usable = listed.filter((c) => c.status === 'verified' || c.status === 'unverified');
  const results = parseJson(VerifySchema, verify.stdout);
  const verifiedOk = new Set<string>();
  if (!results.ok) {
    violate('cli-failed', `verify --json: exit ${verify.code ?? verify.signal}: ${results.error} ${lastLines(verify.stderr)}`);
  } else {
    const byPath = new Map(results.value.map((r) => [path.resolve(r.path), r]));
    for (const c of usable) {
      const result = byPath.get(path.resolve(c.path));
      if (!result) violate('verify-failed', `${c.id} is listed as ${c.status} but verify did not check it`);
      else if (!result.ok) violate('verify-failed', `${c.id} is listed as ${c.status} but does not verify: ${clip(JSON.stringify(result.problems), 300)}`);
      else verifiedOk.add(c.id);
    }
    if (verify.code !== 0 && results.value.every((r) => r.ok))
      violate('cli-failed', `verify exited ${verify.code ?? verify.signal} although everything verified: ${lastLines(verify.stderr)}`);
  }

  // (b) Nothing complete before the kill is lost: it is still in its run, or the run's
  // retention moved it to the trash (whose payload is the checkpoint folder, FORMAT.md §8).
  const trashed = trash.code === 0 ? parseJson(TrashSchema, trash.stdout) : null;
  if (!trashed?.ok) {
    violate('cli-failed', `trash ls --json: exit ${trash.code ?? trash.signal}: ${trashed ? trashed.error : lastLines(trash.stderr)}`);
  } else {
    const inTrash = new Set(
      trashed.value.filter((e) => existsSync(path.join(workspace, '.trash', e.id, 'payload', 'manifest.json'))).map((e) => e.checkpointId),
    );
    const listedIds = new Set(listed.map((c) => c.id));
    for (const id of [...ctx.before].sort()) {
      const onDisk = isCompleteFolder(path.join(workspace, id));
      if (onDisk && !listedIds.has(id)) violate('lost', `${id} is complete on disk but ls does not list it`);
      if (!onDisk && !inTrash.has(id)) {
        const note = trashed.value.some((e) => e.checkpointId === id) ? ' (a trash entry names it, but holds no complete payload)' : '';
        violate('lost', `${id} was complete before the kill and is now neither in its run nor in the trash${note}`);
      }
    }
  }

  // (d) `latest` names a checkpoint that verifies (or, with none usable, refuses).
  let latest: z.infer<typeof LatestSchema> | null = null;
  if (latestCall.code === 0) {
    const parsed = parseJson(LatestSchema, latestCall.stdout);
    if (!parsed.ok) violate('latest-failed', `latest --json: ${parsed.error}`);
    else if (!verifiedOk.has(parsed.value.id)) violate('latest-failed', `latest names ${parsed.value.id}, which did not verify (or is not listed)`);
    else latest = parsed.value;
  } else if (usable.length > 0) {
    violate(
      'latest-failed',
      `latest exit ${latestCall.code ?? latestCall.signal} with ${usable.length} usable checkpoints listed: ${lastLines(latestCall.stderr)}`,
    );
  }

  // (c) A retry works. Without a checkpoint in the killed run: the same command, same --run,
  // succeeds. With one: continuing from latest into a new run trains exactly the steps asked.
  const holdsCheckpoints = usable.some((c) => c.run === run);
  let retried = false;
  if (!holdsCheckpoints) {
    // Nothing to continue from: the retry of a resume is not defined (a violation above says why).
    if (ctx.mode === 'resume' && latest === null) return;
    const expected = (ctx.mode === 'resume' && latest ? latest.step : 0) + 3;
    const retry = ctx.trainer(ctx.mode === 'fresh' ? ctx.freshArgs(run, 3) : ctx.resumeArgs(run, 3));
    const exit = await finish(retry);
    retried = exit.code === 0;
    const finished = retry.first('finished');
    const what = `retrying \`train ${ctx.mode === 'fresh' ? '' : '--resume latest '}--run ${run} --max-steps 3\` after the kill`;
    if (exit.code !== 0) violate('retry-same-run-failed', `${what}: exit ${exit.code ?? exit.signal}: ${lastLines(retry.stderr)}`);
    else if (finished?.step !== expected) violate('retry-same-run-failed', `${what}: finished at step ${finished?.step ?? 'never'}, expected ${expected}`);
  } else if (latest !== null) {
    const retryRun = `${run}-retry`;
    const retry = ctx.trainer(ctx.resumeArgs(retryRun, 2));
    const exit = await finish(retry);
    retried = exit.code === 0;
    const startedEvent = retry.first('started');
    const finished = retry.first('finished');
    const what = `train --resume latest --run ${retryRun} --max-steps 2 (latest ${latest.id})`;
    if (exit.code !== 0) violate('retry-resume-failed', `${what}: exit ${exit.code ?? exit.signal}: ${lastLines(retry.stderr)}`);
    else if (startedEvent?.resumedFrom?.run !== latest.run || startedEvent.resumedFrom.step !== latest.step) {
      violate('retry-resume-failed', `${what}: continued from ${JSON.stringify(startedEvent?.resumedFrom ?? null)}, not from latest`);
    } else if (finished?.step !== latest.step + 2) {
      violate('retry-resume-failed', `${what}: finished at step ${finished?.step ?? 'never'}, expected ${latest.step + 2}`);
    }
  }

  // What the killed trainer left half-written does not pile up: a trainer opens the workspace
  // to write, which removes the temporaries of dead writers (FORMAT.md §1), and every writer is
  // dead once the retry has exited. (Listing alone need not clean: reading may change nothing.)
  if (retried) {
    const left = temporaries(workspace);
    if (left.length > 0) violate('temporary-left', `after a retry trainer opened the workspace to write and exited, still there: ${left.join(', ')}`);
  }
}

/** The processes that own temporaries or locks in the workspace: their pids are in the names and lock files. */
function writerPids(workspace: string): Set<number> {
  const pids = new Set<number>();
  const runs = existsSync(workspace) ? readdirSync(workspace, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')) : [];
  for (const run of runs) {
    const dir = path.join(workspace, run.name);
    for (const name of readdirSync(dir)) {
      const match = /^\.tmp-studio\.[0-9a-f]{8}\.(\d+)\./.exec(name);
      if (match) pids.add(Number(match[1]));
    }
    try {
      const lock = JSON.parse(readFileSync(path.join(dir, '.lock'), 'utf8')) as { pid?: unknown };
      if (typeof lock.pid === 'number') pids.add(lock.pid);
    } catch {
      // no lock
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits (up to 30 s) until every process that wrote in the workspace has exited. */
async function writersGone(workspace: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ([...writerPids(workspace)].some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

function isCompleteFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory() && existsSync(path.join(dir, 'manifest.json'));
  } catch {
    return false;
  }
}
