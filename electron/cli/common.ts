// What every subcommand shares: --workspace and --json, a Studio opened the way the command
// needs, flag parsers that name the flag when a value is wrong, and the exit code.
import { StudioError } from '../contract.js';
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_QUIET_SECONDS, QuietSecondsSchema, type S3Connection, type StudioApi } from '../contract.js';
import { Studio } from '../core/studio/studio.js';
import { parseBytes, parseDuration } from './format.js';

export { type Output, stderr, stdout } from './output.js';

export const DEFAULT_WORKSPACE = './checkpoints';

export interface CommonOptions {
  workspace: string;
  json?: boolean;
  quietSeconds?: number;
  s3Endpoint?: string;
  s3PathStyle?: boolean;
  profile?: string;
}

/** The S3 settings the flags give (issue 18); undefined when none was given. */
export function s3Connection(options: Pick<CommonOptions, 's3Endpoint' | 's3PathStyle' | 'profile'>): S3Connection | undefined {
  const connection: S3Connection = {
    ...(options.s3Endpoint !== undefined ? { endpoint: options.s3Endpoint } : {}),
    ...(options.s3PathStyle ? { pathStyle: true } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
  };
  return Object.keys(connection).length > 0 ? connection : undefined;
}

/** How a command opens the workspace: to read (changes nothing), to write, or to create it (a first training). */
export type Access = 'read' | 'write' | 'create';

/** The exit code the last action chose; commander itself does not carry one. */
export const result = { exitCode: 0 };

function argument<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      // commander names the flag and the value; this says what was expected.
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };
}

export const positiveInt = argument((value) => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new Error('expected a positive whole number');
  return parsed;
});

export const wholeNumber = argument((value) => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new Error('expected a whole number (0 or more)');
  return parsed;
});

export const positiveNumber = argument((value) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error('expected a number above zero');
  return parsed;
});

export const sizeArgument = argument((value) => {
  const bytes = parseBytes(value);
  if (bytes <= 0) throw new Error('expected a size above zero (examples: 500MB, 20GB)');
  return bytes;
});

export const durationArgument = argument((value) => parseDuration(value));

export const quietSecondsArgument = argument((value) => QuietSecondsSchema.parse(Number(value)));

/** The options that say how to reach an s3:// workspace's store (never its credentials: those come from the AWS chain). */
export function withS3Options(command: Command): Command {
  return command
    .option('--s3-endpoint <url>', "for an s3:// workspace: the store's URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS)")
    .option('--s3-path-style', 'for an s3:// workspace: put the bucket in the path (automatic for an IP address or localhost)')
    .option('--profile <name>', 'for an s3:// workspace: the AWS profile whose credentials to use (default: AWS_PROFILE, or the standard chain)');
}

/** Adds the options every subcommand takes. */
export function withCommon(command: Command): Command {
  return withS3Options(command.option('--workspace <dir>', 'the checkpoint workspace: a folder, or s3://bucket/prefix', DEFAULT_WORKSPACE))
    .option('--json', 'machine-readable output')
    .option(
      '--quiet-seconds <s>',
      `change another program's folder only after it has been quiet this long (default ${DEFAULT_QUIET_SECONDS}; 0: at once)`,
      quietSecondsArgument,
    );
}

export interface ActionContext {
  readonly api: StudioApi;
  /** The workspace's real path; null when a command that may work without one found none. */
  readonly workspace: string | null;
}

/**
 * Wraps a subcommand's action: it receives commander's arguments and options followed by the
 * StudioApi of a Studio with the workspace opened as `access` says, and returns the exit code. With `optional`,
 * a missing workspace is not an error (verify or inspect of a folder elsewhere).
 */
export function studioAction<A extends unknown[]>(
  access: Access | ((options: CommonOptions) => Access),
  fn: (...args: [...A, ActionContext]) => Promise<number>,
  settings: {
    optional?: (args: unknown[]) => boolean;
    /** What to do, instead of failing, when the default workspace (not one the user named) does not exist yet. */
    noDefaultWorkspace?: (options: CommonOptions) => number;
  } = {},
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    // commander passes (...arguments, options, command)
    const options = args[args.length - 2] as CommonOptions;
    const mode = typeof access === 'function' ? access(options) : access;
    const studio = new Studio();
    let workspace: string | null = null;
    let missingWorkspace: StudioError | null = null;
    try {
      try {
        workspace = (
          await studio.api.openWorkspace({
            path: options.workspace,
            create: mode === 'create',
            readOnly: mode === 'read',
            ...(options.quietSeconds !== undefined ? { quietSeconds: options.quietSeconds } : {}),
            ...(s3Connection(options) ? { s3: s3Connection(options) } : {}),
          })
        ).workspace;
      } catch (error) {
        const command = args[args.length - 1] as Command | undefined;
        const defaulted = command?.getOptionValueSource?.('workspace') === 'default';
        if (error instanceof StudioError && error.code === 'not-found' && defaulted && settings.noDefaultWorkspace) {
          result.exitCode = settings.noDefaultWorkspace(options);
          return;
        }
        if (!(error instanceof StudioError && error.code === 'not-found' && settings.optional?.(args))) throw error;
        missingWorkspace = error;
      }
      try {
        result.exitCode = await fn(...(args.slice(0, -1) as A), { api: studio.api, workspace });
      } catch (error) {
        // Not found anywhere: either the target or the workspace it would have been in is the mistake; say both.
        if (missingWorkspace && error instanceof StudioError && error.code === 'not-found') {
          throw new StudioError('not-found', `${error.message}; nor is it in a workspace (${missingWorkspace.message})`);
        }
        throw error;
      }
    } finally {
      await studio.close();
    }
  };
}
