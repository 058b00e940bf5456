// The trainer as an Electron utility process: in the packaged app the RunAsNode fuse is off, so
// child_process.fork of the app binary cannot start Node; utilityProcess.fork can. It satisfies
// the same ChildLauncher contract as ForkLauncher (see core/training/process/trainer-launcher.ts).
import { utilityProcess } from 'electron';
import type { ChildHandlers, ChildLauncher, LaunchSpec, LaunchedChild } from '../core/training/process/trainer-launcher.js';

export class UtilityProcessLauncher implements ChildLauncher {
  launch(spec: LaunchSpec, handlers: ChildHandlers): LaunchedChild {
    let exited = false;
    let killed: 'SIGTERM' | 'SIGKILL' | null = null;
    const exit = (code: number | null): void => {
      if (exited) return;
      exited = true;
      // A utility process reports only a code; a kill we asked for is said as its signal.
      handlers.exit(killed ? null : code, killed);
    };
    let child: Electron.UtilityProcess;
    try {
      child = utilityProcess.fork(spec.modulePath, [...spec.args], { stdio: 'pipe', serviceName: 'Checkpoint Studio trainer' });
    } catch (error) {
      handlers.error(error instanceof Error ? error : new Error(String(error)));
      queueMicrotask(() => exit(null));
      return { pid: undefined, send: () => false, kill: () => undefined };
    }
    child.on('message', (message: unknown) => handlers.message(message));
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = child[stream];
      readable?.setEncoding('utf8');
      readable?.on('data', (text: string) => handlers.output(stream, text));
    }
    child.on('exit', (code) => exit(code));
    return {
      get pid() {
        return child.pid;
      },
      send(command) {
        if (exited) return false;
        try {
          child.postMessage(command);
          return true;
        } catch (error) {
          handlers.error(error instanceof Error ? error : new Error(String(error)));
          return false;
        }
      },
      kill(signal) {
        if (exited) return;
        killed = signal;
        child.kill();
      },
    };
  }
}
