// The trainer process's entry point. The supervisor starts it with child_process.fork (CLI,
// browser mode) or Electron's utilityProcess.fork (packaged app); both give it a message channel
// to its parent, which this file finds by itself. It trains one session, or replays after one
// checkpoint to verify its resume, and exits:
//   0  after the session finished (completed, step limit, or a graceful stop) or the replay reported,
//   1  after an error, which it first reports as an `error` message and on stderr.
// SIGTERM and SIGINT ask for a graceful stop (a second one gives up waiting); so does the
// parent going away, so an orphaned trainer saves and ends rather than training on unseen.
import { format } from 'node:util';
import { CheckpointStore } from '../../checkpoint/store.js';
import { isS3Address, openS3Storage } from '../../storage/open-s3.js';
import { runTrainingSession } from './training-session.js';
import { replayInBucket, replayOnDisk, verifyResume } from './verify-resume.js';
import { StoredWorkspace } from '../../checkpoint/stored-store.js';
import type { LogLevel, TrainerMessage } from '../process/trainer-protocol.js';
import { type ReplayRunner, type SessionRunner, TrainerRuntime } from '../process/trainer-runtime.js';

/** Electron's utilityProcess gives the child `process.parentPort`; typed here without Electron. */
interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

interface Channel {
  send(message: TrainerMessage): void;
  onMessage(listener: (message: unknown) => void): void;
  /** False once the parent is gone. */
  connected(): boolean;
  /** Resolves once everything sent so far has been handed to the operating system. */
  flushed(): Promise<void>;
}

function isParentPort(value: unknown): value is ParentPortLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ParentPortLike).postMessage === 'function' &&
    typeof (value as ParentPortLike).on === 'function'
  );
}

function openChannel(): Channel | null {
  const parentPort: unknown = Reflect.get(process, 'parentPort');
  if (isParentPort(parentPort)) {
    return {
      send: (message) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on('message', (event) => listener(event.data)),
      connected: () => true,
      // postMessage queues synchronously; one turn of the loop lets Electron pick it up.
      flushed: () => new Promise((resolve) => setImmediate(resolve)),
    };
  }
  const send = process.send?.bind(process);
  if (!send) return null;
  let pending = 0;
  let drained: (() => void)[] = [];
  return {
    send(message) {
      // After a disconnect there is nobody to tell; fatal errors still reach stderr.
      if (!process.connected) return;
      pending += 1;
      try {
        send(message, undefined, undefined, () => {
          pending -= 1;
          if (pending === 0) for (const resolve of drained.splice(0)) resolve();
        });
      } catch {
        // A message that cannot be serialized: dropped rather than taking the trainer down.
        pending -= 1;
      }
    },
    onMessage: (listener) => process.on('message', listener),
    connected: () => process.connected,
    flushed: () => (pending === 0 || !process.connected ? Promise.resolve() : new Promise((resolve) => (drained = [...drained, resolve]))),
  };
}

function noParent(): never {
  process.stderr.write('checkpoint-studio trainer: no parent to talk to (start it through the TrainerSupervisor)\n');
  process.exit(2);
}

const channel: Channel = openChannel() ?? noParent();

/** Gives up waiting for the transport after this long when exiting. */
const FLUSH_TIMEOUT_MS = 3000;

let exiting = false;
function exit(code: number): void {
  if (exiting) return;
  exiting = true;
  process.exitCode = code;
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, FLUSH_TIMEOUT_MS).unref());
  void Promise.race([channel.flushed(), timeout]).then(() => process.exit(code));
}

function send(message: TrainerMessage): void {
  // Fatal errors also go to stderr: the supervisor keeps its tail for the crash report, and
  // it is the one place left when the channel is already gone.
  if (message.type === 'error' && message.fatal) {
    process.stderr.write(`checkpoint-studio trainer: ${message.error.stack ?? `${message.error.name}: ${message.error.message}`}\n`);
  }
  channel.send(message);
}

const runSession: SessionRunner = async (request, control, onEvent) => {
  if (isS3Address(request.workspace)) {
    // Credentials come from this process's own AWS chain (its environment, profiles), never from the request.
    const connection = request.s3 ?? {};
    const storage = openS3Storage(request.workspace, connection);
    try {
      return await runTrainingSession({ store: { kind: 'storage', storage, connection }, request, control, onEvent });
    } finally {
      storage.client.destroy();
    }
  }
  // The Studio checked the request; the workspace is created only for a run's first checkpoint.
  const store = await CheckpointStore.open(request.workspace, { access: 'create' });
  return runTrainingSession({ store, request, control, onEvent });
};

const runReplay: ReplayRunner = async (request, control) => {
  // A replay writes nothing: the workspace is opened to read (in S3: its checkpoint read back by ranged GETs).
  if (isS3Address(request.workspace)) {
    const workspace = await StoredWorkspace.open(request.workspace, { access: 'read', ...(request.s3 ? { connection: request.s3 } : {}) });
    try {
      return await verifyResume(replayInBucket(workspace), request, () => control.stopRequested);
    } finally {
      workspace.close();
    }
  }
  const store = await CheckpointStore.open(request.workspace, { access: 'read' });
  return verifyResume(replayOnDisk(store), request, () => control.stopRequested);
};

const runtime = new TrainerRuntime({ send, runSession, verifyResume: runReplay, exit });

// Registered before any backend loads, so these run first. The wasm backend's runtime adds
// handlers that rethrow (an unhandled rejection becomes fatal at once, exit code 7): the report
// on stderr is written synchronously before that can happen, the IPC message as far as it gets.
process.on('uncaughtException', (error) => runtime.fail(error));
process.on('unhandledRejection', (reason) => runtime.fail(reason));

// Logs are forwarded as messages, with their level, rather than printed to a pipe.
const consoleLevels: Record<'debug' | 'log' | 'info' | 'warn' | 'error', LogLevel> = {
  debug: 'debug',
  log: 'info',
  info: 'info',
  warn: 'warn',
  error: 'error',
};
for (const [method, level] of Object.entries(consoleLevels) as [keyof typeof consoleLevels, LogLevel][]) {
  console[method] = (...args: unknown[]): void => {
    const text = format(...args);
    if (exiting || !channel.connected()) process.stderr.write(`${text}\n`);
    else runtime.log(level, text);
  };
}

let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals === 1) runtime.requestStop(`received ${signal}`);
    else runtime.fail(new Error(`received ${signal} again while stopping: exiting without waiting for the session`));
  });
}
process.on('disconnect', () => runtime.requestStop('the supervisor disconnected'));

channel.onMessage((message) => runtime.receive(message));
runtime.ready(process.pid);
