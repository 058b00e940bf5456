// Which workspace the app opens: --workspace (as `checkpoint-studio start` passes it), else
// ./checkpoints of where it was started; a packaged app started from a desktop has no meaningful
// folder (it is / on macOS), so it takes ~/checkpoints instead.
import path from 'node:path';

export interface LaunchPlace {
  packaged: boolean;
  cwd: string;
  home: string;
}

export function launchWorkspace(argv: readonly string[], place: LaunchPlace): string {
  const index = argv.indexOf('--workspace');
  const given = index >= 0 ? argv[index + 1] : undefined;
  if (given && !given.startsWith('-')) return path.resolve(place.cwd, given);
  return path.join(place.packaged ? place.home : place.cwd, 'checkpoints');
}
