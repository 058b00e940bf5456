// Starting a worker thread from a module next to the caller. Built, that module is plain
// JavaScript; under the test runner it is TypeScript, and the worker first registers tsx's
// loader itself (a worker does not inherit the loader its parent was started with).
import { Worker } from 'node:worker_threads';

/** `name` is the module's file name without extension, `from` the caller's import.meta.url. */
export function startModuleWorker(name: string, from: string, workerData?: unknown): Worker {
  const fromSource = from.endsWith('.ts');
  const url = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, from);
  if (!fromSource) return new Worker(url, { workerData });
  const bootstrap = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
