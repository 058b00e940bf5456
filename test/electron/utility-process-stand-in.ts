// Electron's utilityProcess, stood in by a real Node child (child_process.fork) that behaves as
// Electron documents a UtilityProcess (https://www.electronjs.org/docs/latest/api/utility-process):
// the child talks through `process.parentPort` (messages arrive as `{ data }`); `pid` is undefined
// until 'spawn' and again after 'exit'; stdout and stderr are streams, null after 'exit'; 'exit'
// gives a code only; `kill()` takes no signal and sends SIGTERM.
import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { PassThrough } from 'node:stream';
import type { UtilityChild, UtilityForkOptions, UtilityProcessModule } from '../../electron/app/utility-launcher.js';

/** Loaded into the child before its module: Electron's parentPort over the fork's IPC channel, and no process.send. */
const PARENT_PORT = [
  'const send = process.send.bind(process);',
  'const port = { postMessage: (message) => void send(message), on(event, listener) {',
  "  if (event === 'message') process.on('message', (data) => listener({ data }));",
  '  return port;',
  '} };',
  "Object.defineProperty(process, 'parentPort', { value: port });",
  'delete process.send;',
].join('\n');
const PARENT_PORT_MODULE = `data:text/javascript,${encodeURIComponent(PARENT_PORT)}`;

export interface StandInOptions {
  /**
   * Deliver every byte of stdout and stderr only after 'exit' has been emitted: Electron promises
   * no order between the two, and this is the order that loses a crash's last words.
   */
  readonly outputAfterExit?: boolean;
}

class StandInUtilityProcess extends EventEmitter implements UtilityChild {
  pid: number | undefined = undefined;
  stdout: PassThrough | null = new PassThrough();
  stderr: PassThrough | null = new PassThrough();

  constructor(
    private readonly child: ChildProcess,
    outputAfterExit: boolean,
  ) {
    super();
    const stdout = this.stdout as PassThrough;
    const stderr = this.stderr as PassThrough;
    const connect = (): void => {
      child.stdout?.pipe(stdout);
      child.stderr?.pipe(stderr);
    };
    if (!outputAfterExit) connect();
    child.on('spawn', () => {
      this.pid = child.pid;
      this.emit('spawn');
    });
    child.on('message', (message: unknown) => this.emit('message', message));
    // A child that could not be started: Electron says so with its 'error' event, then 'exit'.
    child.on('error', (error) => this.emit('error', 'FatalError', error.message));
    child.on('exit', (code, signal) => {
      this.emit('exit', code ?? (signal ? constants.signals[signal] : 0));
      this.pid = undefined;
      this.stdout = null;
      this.stderr = null;
      if (outputAfterExit) connect();
    });
  }

  postMessage(message: unknown): void {
    if (!this.child.connected) throw new Error('the utility process has no channel any more');
    this.child.send(message as object);
  }

  kill(): boolean {
    return this.child.kill('SIGTERM');
  }
}

/** A stand-in for Electron's `utilityProcess` module; `forked` lists what it started. */
export function standInUtilityProcess(options: StandInOptions = {}): UtilityProcessModule & { readonly forked: UtilityChild[] } {
  const forked: UtilityChild[] = [];
  return {
    forked,
    fork(modulePath: string, args: string[], forkOptions: UtilityForkOptions): UtilityChild {
      const child = fork(modulePath, args, {
        execArgv: [...forkOptions.execArgv, '--import', PARENT_PORT_MODULE],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      const utility = new StandInUtilityProcess(child, options.outputAfterExit ?? false);
      forked.push(utility);
      return utility;
    },
  };
}
