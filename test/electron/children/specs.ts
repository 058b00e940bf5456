// The test children, as LaunchSpecs any launcher can start (run from source through tsx, as the
// trainer is in tests), and what they say, for the tests to look for.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LaunchSpec } from '../../../electron/core/training/process/trainer-launcher.js';

/** What the stubborn trainer writes to stderr on each SIGTERM it ignores. */
export const IGNORED_SIGTERM = 'stubborn trainer: ignoring SIGTERM';
/** How many stderr lines the crashing child writes, and its exit code. */
export const CRASH_LINES = 30;
export const CRASH_CODE = 3;

function child(name: string, args: string[] = []): LaunchSpec {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { modulePath: fileURLToPath(new URL(`./${name}.ts`, import.meta.url)), args, execArgv: ['--import', tsx] };
}

/** A trainer that ignores SIGTERM and stop commands: only SIGKILL ends it. */
export const STUBBORN_TRAINER = child('stubborn-trainer');
/** Writes CRASH_LINES lines to stderr and exits with CRASH_CODE at once. */
export const CRASHING_CHILD = child('last-words', ['crash']);
/** Leaves a grandchild holding its stdout and stderr open ("grandchild <pid>" on stderr), and exits 0. */
export const PIPE_HOLDING_CHILD = child('last-words', ['grandchild']);
