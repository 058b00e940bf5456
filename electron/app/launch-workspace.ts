// Which workspace the app opens: --workspace (as `checkpoint-studio start` passes it), else
// ./checkpoints of where it was started; a packaged app started from a desktop has no meaningful
// folder (it is / on macOS), so it takes ~/checkpoints instead.
import path from 'node:path';
import type { S3Connection } from '../contract.js';
import { isS3Address } from '../core/storage/s3-address.js';

export interface LaunchPlace {
  packaged: boolean;
  cwd: string;
  home: string;
}

function flagValue(argv: readonly string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  const given = index >= 0 ? argv[index + 1] : undefined;
  return given && !given.startsWith('-') ? given : undefined;
}

export function launchWorkspace(argv: readonly string[], place: LaunchPlace): string {
  const given = flagValue(argv, '--workspace');
  // An s3:// address is a place in a store, not a path to resolve.
  if (given && isS3Address(given)) return given;
  if (given) return path.resolve(place.cwd, given);
  return path.join(place.packaged ? place.home : place.cwd, 'checkpoints');
}

/** The S3 settings `checkpoint-studio start` passes on with an s3:// workspace (issue 18). */
export function launchS3Connection(argv: readonly string[]): S3Connection | undefined {
  const endpoint = flagValue(argv, '--s3-endpoint');
  const profile = flagValue(argv, '--profile');
  const connection: S3Connection = {
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(argv.includes('--s3-path-style') ? { pathStyle: true } : {}),
    ...(profile !== undefined ? { profile } : {}),
  };
  return Object.keys(connection).length > 0 ? connection : undefined;
}
