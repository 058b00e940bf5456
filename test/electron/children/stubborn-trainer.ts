// A trainer that will not stop, like one stuck in a native kernel: it speaks the protocol through
// TrainerRuntime as the real trainer does, starts a session that never ends and never looks at a
// stop command, and ignores SIGTERM (saying so on stderr). Only SIGKILL ends it, and it never saves.
import type { SessionEvent } from '../../../electron/contract.js';
import { TrainerRuntime } from '../../../electron/core/training/process/trainer-runtime.js';
import { parentChannel } from './parent-channel.js';
import { IGNORED_SIGTERM } from './specs.js';

const channel = parentChannel();
process.on('SIGTERM', () => process.stderr.write(`${IGNORED_SIGTERM}\n`));
// Not even a test that failed may leave it behind: it goes with its parent.
process.on('disconnect', () => process.exit(1));

const runtime = new TrainerRuntime({
  send: (message) => channel.send(message),
  runSession: (request, _control, onEvent) => {
    const started: SessionEvent = {
      type: 'started',
      run: request.run,
      backend: 'cpu',
      backendReason: null,
      parameters: 0,
      batchesPerEpoch: 1,
      totalSteps: 1,
      step: 0,
      resumedFrom: null,
    };
    onEvent(started);
    runtime.log('info', `stubborn trainer ${process.pid} started`);
    return new Promise(() => setInterval(() => undefined, 60_000));
  },
  verifyResume: () => Promise.reject(new Error('the stubborn trainer replays nothing')),
  exit: (code) => process.exit(code),
});
channel.onMessage((message) => runtime.receive(message));
runtime.ready(process.pid);
