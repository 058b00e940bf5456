// Where the built renderer is: renderer/dist at the package root (the repository, or the app's
// root inside a packaged app).
import path from 'node:path';
import { packageRoot } from './package-root.js';

export function rendererDir(from: string = import.meta.url): string {
  return path.join(packageRoot(from), 'renderer', 'dist');
}
