// The `checkpoint-studio` command: a thin shell over the same core the app uses.
import { Command, CommanderError } from 'commander';
import { pathToFileURL } from 'node:url';
import { STUDIO_VERSION } from './core/version.js';
import { result, stdout } from './cli/common.js';
import { registerStoreCommands } from './cli/store-commands.js';
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
  registerTrainCommands(program, stdout);
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
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`checkpoint-studio: ${message}\n`);
    return error instanceof Error && error.name === 'UsageError' ? EXIT_USAGE : EXIT_FAILED;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv);
}
