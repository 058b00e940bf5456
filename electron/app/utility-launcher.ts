// The trainer as an Electron utility process: in the packaged app the RunAsNode fuse is off, so
// child_process.fork of the app binary cannot start Node; utilityProcess.fork can. It satisfies
// the same ChildLauncher contract as ForkLauncher (see core/training/process/trainer-launcher.ts).
// Electron's utilityProcess is handed in (main.ts passes Electron's own), so tests stand in a
// Node child that behaves as Electron documents a UtilityProcess.
import type { ChildHandlers, ChildLauncher, LaunchSpec, LaunchedChild } from '../core/training/process/trainer-launcher.js';
import type { TrainerCommand } from '../core/training/process/trainer-protocol.js';

/** What this launcher uses of one Electron UtilityProcess. */
export interface UtilityChild {
  /** Undefined until the process has spawned, and again once it has exited. */
  readonly pid: number | undefined;
  /** Null after the 'exit' event: the launcher keeps the streams it got at fork. */
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  on(event: 'spawn', listener: () => void): unknown;
  /** A code only, never a signal. Not ordered with the end of stdout and stderr. */
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  /** A fatal V8 error in the child; 'exit' follows. An EventEmitter's 'error' with no listener would throw here. */
  on(event: 'error', listener: (type: string, location: string) => void): unknown;
  postMessage(message: unknown): void;
  /** Always SIGTERM on POSIX: Electron's kill takes no signal. */
  kill(): boolean;
}

export interface UtilityForkOptions {
  readonly stdio: 'pipe';
  readonly serviceName: string;
  readonly execArgv: string[];
}

/** Electron's `utilityProcess` module, as far as this launcher uses it. */
export interface UtilityProcessModule {
  fork(modulePath: string, args: string[], options: UtilityForkOptions): UtilityChild;
}

export interface UtilityLauncherOptions {
  /**
   * How long, after the process exited, its stdout and stderr may take to end before the exit is
   * reported anyway: a grandchild that inherited the pipes can hold them open for ever.
   */
  readonly outputGraceMs?: number;
}

const OUTPUT_GRACE_MS = 2000;
const SERVICE_NAME = 'Checkpoint Studio trainer';

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class UtilityProcessLauncher implements ChildLauncher {
  private readonly outputGraceMs: number;

  constructor(
    private readonly utilityProcess: UtilityProcessModule,
    options: UtilityLauncherOptions = {},
  ) {
    this.outputGraceMs = options.outputGraceMs ?? OUTPUT_GRACE_MS;
  }

  launch(spec: LaunchSpec, handlers: ChildHandlers): LaunchedChild {
    let child: UtilityChild;
    try {
      child = this.utilityProcess.fork(spec.modulePath, [...spec.args], { stdio: 'pipe', serviceName: SERVICE_NAME, execArgv: [...spec.execArgv] });
    } catch (error) {
      handlers.error(asError(error));
      queueMicrotask(() => handlers.exit(null, null));
      return { pid: undefined, send: () => false, kill: () => undefined };
    }
    return new UtilityTrainer(child, handlers, this.outputGraceMs);
  }
}

/** One launched utility process: its output and messages forwarded, its exit reported once, last. */
class UtilityTrainer implements LaunchedChild {
  /** The process has exited (Electron said so); its exit may not be reported yet. */
  private gone = false;
  private reported = false;
  private killedBy: 'SIGKILL' | null = null;
  /** A SIGKILL asked for before the process had a pid: sent once it spawns. */
  private killOnSpawn = false;

  constructor(
    private readonly child: UtilityChild,
    private readonly handlers: ChildHandlers,
    graceMs: number,
  ) {
    child.on('message', (message) => {
      if (!this.reported) handlers.message(message);
    });
    child.on('error', (type, location) => handlers.error(new Error(`the trainer process failed: ${type} at ${location}`)));
    child.on('spawn', () => {
      if (this.killOnSpawn) this.sigkill();
    });
    const outputs = [this.follow('stdout', child.stdout), this.follow('stderr', child.stderr)];
    child.on('exit', (code) => {
      this.gone = true;
      void this.reportAfter(outputs, graceMs, code);
    });
  }

  get pid(): number | undefined {
    return this.gone ? undefined : this.child.pid;
  }

  send(command: TrainerCommand): boolean {
    if (this.gone) return false;
    try {
      this.child.postMessage(command);
      return true;
    } catch (error) {
      this.handlers.error(asError(error));
      return false;
    }
  }

  kill(signal: 'SIGTERM' | 'SIGKILL'): void {
    if (this.gone) return;
    // Electron's kill() is SIGTERM, which the trainer takes as "save and stop": a kill must not be.
    if (signal === 'SIGTERM') this.child.kill();
    else {
      this.killedBy = 'SIGKILL';
      this.sigkill();
    }
  }

  /** A utility process is an operating-system process with a pid: the signal goes to it directly. */
  private sigkill(): void {
    const pid = this.child.pid;
    if (pid === undefined) {
      this.killOnSpawn = true;
      return;
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      // Gone already (its exit is on the way): nothing to kill.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') this.handlers.error(asError(error));
    }
  }

  /** Forwards one stream's text; resolves when it has ended (at once when there is none). */
  private follow(stream: 'stdout' | 'stderr', readable: NodeJS.ReadableStream | null): Promise<void> {
    if (!readable) return Promise.resolve();
    readable.setEncoding('utf8');
    readable.on('data', (text: string) => {
      if (!this.reported) this.handlers.output(stream, text);
    });
    return new Promise((resolve) => {
      readable.once('end', resolve);
      readable.once('close', resolve);
      readable.on('error', (error: Error) => {
        this.handlers.error(error);
        resolve();
      });
    });
  }

  /** Reports the exit once both streams have ended, so the crash report's stderr tail is whole, or after the grace. */
  private async reportAfter(outputs: Promise<void>[], graceMs: number, code: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(outputs), grace]);
    clearTimeout(timer);
    this.reported = true;
    // Electron reports no signal; the one we sent is known, and a kill asked for is said as it.
    this.handlers.exit(this.killedBy ? null : code, this.killedBy);
  }
}
