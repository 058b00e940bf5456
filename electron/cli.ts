// The `checkpoint-studio` command: a thin shell over the same core the app uses.
import { Command, CommanderError } from 'commander';
import { pathToFileURL } from 'node:url';
import { STUDIO_VERSION } from './core/version.js';
import { result, stderr, stdout } from './cli/common.js';
import { registerDiffCommand } from './cli/diff-command.js';
import { registerDistributionsCommand } from './cli/distributions-command.js';
import { registerExportCommand } from './cli/export-command.js';
import { registerImportCommand } from './cli/import-command.js';
import { registerStoreCommands } from './cli/store-commands.js';
import { registerServeCommand } from './cli/serve-command.js';
import { registerStartCommand } from './cli/start-command.js';
import { registerTrainCommands } from './cli/train-commands.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export function buildProgram(): Command {
  const program = new Command('checkpoint-studio')
    .description('Train, save, see, restore and safely delete deep-learning checkpoints.')
    .version(STUDIO_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerStoreCommands(program, stdout);
  registerImportCommand(program, stdout);
  registerExportCommand(program, stdout);
  registerDiffCommand(program, stdout);
  registerDistributionsCommand(program, stdout);
  registerTrainCommands(program, stdout);
  registerServeCommand(program, stdout);
  // Last, and the default: `checkpoint-studio` alone opens the app.
  registerStartCommand(program, stdout);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  result.exitCode = EXIT_OK;
  try {
    await buildProgram().parseAsync(argv as string[]);
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit through here with code 0; commander already printed the message.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    stderr.line(`checkpoint-studio: ${failureMessage(error)}`);
    const usage = error instanceof Error && (error.name === 'UsageError' || (error as { code?: unknown }).code === 'usage');
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
}

/**
 * One line for the user. Our errors and the system's (which name the file and the call) are
 * shown as they are; anything else is a bug of ours, said to be one, with the stack only when
 * asked for, since a stack trace tells a user nothing about their files.
 */
function failureMessage(error: unknown): string {
  if (!(error instanceof Error)) return `internal error: ${String(error)}`;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || error.name === 'UsageError') return error.message;
  const detail = process.env.CHECKPOINT_STUDIO_DEBUG ? `\n${error.stack ?? ''}` : ' (a bug: please report it; CHECKPOINT_STUDIO_DEBUG=1 shows where)';
  return `internal error: ${error.message}${detail}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv);
}
