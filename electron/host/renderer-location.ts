// Where the built renderer is: renderer/dist at the repository (or package) root. This file is
// electron/host/ in the sources and dist/electron/host/ when built, so the root is found by
// walking up to the folder that holds package.json.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function rendererDir(from: string = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(from));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.join(dir, 'renderer', 'dist');
}
