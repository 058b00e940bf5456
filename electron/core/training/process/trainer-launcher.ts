// How the supervisor gets a trainer process: the one seam between it and the kind of process.
// The CLI and browser mode use ForkLauncher (child_process.fork). The packaged Electron app
// needs utilityProcess.fork instead (its RunAsNode fuse is off, so child_process.fork of the
// app binary breaks); that launcher lives in electron/host/, since nothing under electron/core
// may import Electron.
//
// A launcher implementation must:
//   - start `spec.modulePath` as an ES module with `spec.args` as its argv tail and
//     `spec.execArgv` as Node options (the utilityProcess launcher only ever gets built .js
//     files and an empty execArgv), with stdout and stderr piped;
//   - give the child a message channel the trainer finds by itself (process.send for a fork,
//     process.parentPort for a utility process) carrying structured-cloneable plain data;
//   - call `handlers.exit` exactly once, after the last `message`, `stdout` and `stderr`
//     call, including when the process never started (then with code and signal null);
//   - never throw from `send` or `kill` and never emit an unhandled 'error': report
//     failures through `handlers.error`.
// Electron's utilityProcess reports only an exit code, never a signal: its launcher passes
// signal null, and the supervisor still knows a kill it asked for was not a crash.
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TrainerCommand } from './trainer-protocol.js';

export interface LaunchSpec {
  /** Absolute path of the module to run. */
  readonly modulePath: string;
  readonly args: readonly string[];
  readonly execArgv: readonly string[];
}

export interface ChildHandlers {
  /** A message from the child, not yet validated. */
  message(message: unknown): void;
  /** A chunk of the child's stdout or stderr, as text. */
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** A failure that is not the child's exit: it could not be started, a message could not be sent. */
  error(error: Error): void;
  /** The child is gone: called once, last. */
  exit(code: number | null, signal: NodeJS.Signals | null): void;
}

export interface LaunchedChild {
  /** Undefined when the process could not be started. */
  readonly pid: number | undefined;
  /** Delivers a command; false when there is no channel any more (the child is gone or going). */
  send(command: TrainerCommand): boolean;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
}

export interface ChildLauncher {
  launch(spec: LaunchSpec, handlers: ChildHandlers): LaunchedChild;
}

/**
 * Where the trainer module is (the session's side of the process, in ../session/). From TypeScript source (tests, `node --import tsx`), the .ts file
 * run through tsx's loader, named by absolute URL so the child's working directory does not
 * matter; built, the sibling .js file with no loader.
 */
export function trainerModuleSpec(moduleUrl: string = import.meta.url): LaunchSpec {
  const fromSource = moduleUrl.endsWith('.ts');
  const modulePath = fileURLToPath(new URL(`../session/trainer-main.${fromSource ? 'ts' : 'js'}`, moduleUrl));
  if (!fromSource) return { modulePath, args: [], execArgv: [] };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { modulePath, args: [], execArgv: ['--import', tsx] };
}

/** child_process.fork, for the CLI and browser mode. */
export class ForkLauncher implements ChildLauncher {
  launch(spec: LaunchSpec, handlers: ChildHandlers): LaunchedChild {
    let exited = false;
    const exit = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (exited) return;
      exited = true;
      handlers.exit(code, signal);
    };
    let child: ChildProcess;
    try {
      child = fork(spec.modulePath, [...spec.args], {
        // Explicit, so the parent's own loader flags (a test runner's, say) are not inherited.
        execArgv: [...spec.execArgv],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
    } catch (error) {
      handlers.error(error instanceof Error ? error : new Error(String(error)));
      queueMicrotask(() => exit(null, null));
      return { pid: undefined, send: () => false, kill: () => undefined };
    }
    child.on('message', (message: unknown) => handlers.message(message));
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = child[stream];
      readable?.setEncoding('utf8');
      readable?.on('data', (text: string) => handlers.output(stream, text));
      readable?.on('error', (error) => handlers.error(error));
    }
    child.on('error', (error) => {
      handlers.error(error);
      // A process that never started emits no 'close' of its own.
      if (child.pid === undefined) exit(null, null);
    });
    // 'close', not 'exit': it comes after stdio has ended, so the stderr tail is complete.
    child.on('close', (code, signal) => exit(code, signal));
    return {
      pid: child.pid,
      send(command) {
        if (!child.connected) return false;
        try {
          child.send(command, (error) => {
            if (error) handlers.error(error);
          });
          return true;
        } catch (error) {
          handlers.error(error instanceof Error ? error : new Error(String(error)));
          return false;
        }
      },
      kill(signal) {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
  }
}
