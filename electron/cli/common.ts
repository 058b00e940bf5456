// What every subcommand shares: --workspace and --json, opening the store, and one way to fail.
import { type Command, InvalidArgumentError } from 'commander';
import { CheckpointStore } from '../core/checkpoint/store.js';
import type { WorkspaceAccess } from '../core/checkpoint/workspace.js';

export { type Output, stderr, stdout } from './output.js';

export const DEFAULT_WORKSPACE = './checkpoints';

export interface CommonOptions {
  workspace: string;
  json?: boolean;
}

export function intOption(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return parsed;
}

/** The exit code the last action chose; commander itself does not carry one. */
export const result = { exitCode: 0 };

/** Adds the options every store subcommand takes. */
export function withCommon(command: Command): Command {
  return command.option('--workspace <dir>', 'the checkpoint workspace folder', DEFAULT_WORKSPACE).option('--json', 'machine-readable output');
}

/**
 * Wraps a subcommand's action: it receives commander's arguments and options followed by the
 * opened store, and returns the exit code. `access` says whether the command may change the
 * workspace; a command that only reads opens it read-only, so it never creates the folder nor
 * removes anything in it.
 */
export function storeAction<A extends unknown[]>(
  access: WorkspaceAccess | ((options: CommonOptions) => WorkspaceAccess),
  fn: (...args: [...A, CheckpointStore]) => Promise<number>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    // commander passes (...arguments, options, command)
    const options = args[args.length - 2] as CommonOptions;
    const store = await CheckpointStore.open(options.workspace, { access: typeof access === 'function' ? access(options) : access });
    result.exitCode = await fn(...(args.slice(0, -1) as A), store);
  };
}
