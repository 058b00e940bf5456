// What the fuzz suite and its worker process say to each other. The worker runs the cases; the
// suite only watches (a synchronous open() of a FIFO freezes the worker's whole thread, so the
// watchdog must live in another process).

export interface WorkerConfig {
  readonly seed: number;
  /** Case indices to run, in order. */
  readonly cases: readonly number[];
  /** Private folder of this worker: every case is built, run and removed inside it. */
  readonly base: string;
  /** A case folder to copy for every case: `ws/` (the workspace), `outside/`, `beside.txt`. */
  readonly template: string;
}

export type FailureKind =
  | 'hang'
  | 'hang-killed'
  | 'worker-crash'
  | 'slow'
  | 'threw'
  | 'unhandled'
  | 'exit-code'
  | 'stack-trace'
  | 'js-error'
  | 'silent-failure'
  | 'bad-json'
  | 'canary'
  | 'read-only-changed'
  | 'mutation-escaped'
  | 'harness';

export interface Failure {
  readonly kind: FailureKind;
  /** The command line (without --workspace), or a phase such as "setup". */
  readonly command: string;
  /** What was observed, for a human. */
  readonly detail: string;
  /** What makes two failures "the same bug": failures are grouped by kind and signature. */
  readonly signature: string;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | {
      readonly type: 'case';
      readonly index: number;
      readonly caseSeed: number;
      readonly dir: string;
      readonly corruptions: readonly string[];
      /** FIFOs in the case folder once corrupted: the watchdog only needs to feed cases that have some. */
      readonly fifos: number;
    }
  | { readonly type: 'command'; readonly index: number; readonly command: string }
  | {
      readonly type: 'result';
      readonly index: number;
      readonly failures: readonly Failure[];
      readonly ms: number;
      /** Each command's exit code (null: main() threw), so the report can show the corruptions had effect. */
      readonly codes: Readonly<Record<string, number | null>>;
    }
  | { readonly type: 'done' };

/** The read-only commands every case runs, in this order (argv after the program name). */
export const READ_ONLY_COMMANDS: readonly (readonly string[])[] = [
  ['ls'],
  ['ls', '--json'],
  ['verify'],
  ['latest'],
  ['best', '--metric', 'loss'],
  ['trash', 'ls'],
  ['prune', '--dry-run', '--keep-last', '1'],
  ['prune', '--dry-run'],
];

export type MutatingChoice = 'restore-last' | 'restore-id' | 'purge';
export const MUTATING_CHOICES: readonly MutatingChoice[] = ['restore-last', 'restore-id', 'purge'];

/** User files inside the workspace that are not the store's: never to be deleted or changed. */
export const INSIDE_CANARIES: readonly string[] = ['ws/.tmp-notes', 'ws/alpha/.tmp-notes', 'ws/alpha/notes.txt', 'ws/.lock.stale-mine'];

/**
 * True for what the product must leave byte-identical (paths relative to the case folder): all of
 * the case folder that is not the workspace (the `outside/` tree, `beside.txt`, and anything that
 * appears there), and the user's files inside the workspace.
 */
export function isCanary(rel: string): boolean {
  return (rel !== 'ws' && !rel.startsWith('ws/')) || INSIDE_CANARIES.includes(rel);
}
