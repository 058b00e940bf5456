// The main side of verifyResume: replaying after a checkpoint loads TensorFlow.js, which must not
// run where the UI is answered, so each replay runs in a short-lived trainer process, started
// through the same ChildLauncher as training and spoken to with the same protocol. One replay at
// a time; it writes nothing, so close() kills one that runs.
import { StudioError, type VerifyResumeReport } from '../../../contract.js';
import { type ChildLauncher, ForkLauncher, type LaunchSpec, type LaunchedChild, trainerModuleSpec } from './trainer-launcher.js';
import { MessageReceiver, type SerializedError, Sequencer, type TrainerMessage, TrainerMessageSchema } from './trainer-protocol.js';
import { type VerifyResumeRequest, VerifyResumeRequestSchema } from './verify-resume-request.js';

export interface ResumeVerifierOptions {
  readonly launcher?: ChildLauncher;
  /** What to launch; by default session/trainer-main. */
  readonly module?: LaunchSpec;
}

/** The last lines of a replay process's stderr kept for the error when it dies without reporting. */
const STDERR_TAIL_LINES = 10;

/** One replay process: what it said, and how it ended. */
class Replay {
  readonly receiver = new MessageReceiver(TrainerMessageSchema, 'the trainer');
  readonly sequencer = new Sequencer();
  child: LaunchedChild | undefined;
  ready = false;
  commandSent = false;
  report: VerifyResumeReport | null = null;
  /** The error the trainer reported, or the first invalid message it sent. */
  failure: SerializedError | null = null;
  stderr = '';
  killed = false;
  readonly exited: Promise<void>;
  private markExited!: () => void;

  constructor() {
    this.exited = new Promise((resolve) => (this.markExited = resolve));
  }

  exit(): void {
    this.markExited();
  }
}

export class ResumeVerifier {
  private readonly launcher: ChildLauncher;
  private readonly module: LaunchSpec | undefined;
  private current: Replay | null = null;

  constructor(options: ResumeVerifierOptions = {}) {
    this.launcher = options.launcher ?? new ForkLauncher();
    this.module = options.module;
  }

  /** Replays in a new trainer process; resolves with its report once the process has exited. */
  async verify(request: VerifyResumeRequest): Promise<VerifyResumeReport> {
    if (this.current) throw new StudioError('busy', 'a resume is already being verified: wait for it to finish');
    const command = { type: 'verify-resume' as const, request: VerifyResumeRequestSchema.parse(request) };
    const replay = new Replay();
    // The command goes once the trainer says it listens, and its process is known.
    const sendWhenReady = (): void => {
      if (!replay.ready || !replay.child || replay.commandSent) return;
      replay.commandSent = true;
      replay.child.send(replay.sequencer.next(command));
    };
    this.current = replay;
    let ended = { code: null as number | null, signal: null as string | null };
    try {
      replay.child = this.launcher.launch(this.module ?? trainerModuleSpec(), {
        message: (raw) => {
          this.onMessage(replay, raw);
          sendWhenReady();
        },
        output: (stream, text) => {
          if (stream === 'stderr') replay.stderr = (replay.stderr + text).slice(-8192);
        },
        error: (error) => (replay.failure ??= { name: error.name, message: `the replay process: ${error.message}` }),
        exit: (code, signal) => {
          ended = { code, signal };
          replay.exit();
        },
      });
      sendWhenReady();
      await replay.exited;
    } finally {
      this.current = null;
    }
    return outcome(replay, ended);
  }

  /** Ends a replay that runs, at once (it has nothing to save), and waits for its process to go. */
  async close(): Promise<void> {
    const replay = this.current;
    if (!replay) return;
    replay.killed = true;
    replay.child?.kill('SIGKILL');
    await replay.exited;
  }

  private onMessage(replay: Replay, raw: unknown): void {
    const received = replay.receiver.receive(raw);
    if (!received.ok) {
      replay.failure ??= { name: received.error.name, message: received.error.message };
      return;
    }
    const message: TrainerMessage = received.message;
    if (message.type === 'ready') replay.ready = true;
    else if (message.type === 'verified') replay.report = message.report;
    else if (message.type === 'error' && message.fatal) replay.failure = message.error;
  }
}

/** The report of a replay that sent one (it is whole, however the process ended after); otherwise the error that says why not. */
function outcome(replay: Replay, ended: { code: number | null; signal: string | null }): VerifyResumeReport {
  if (replay.report) return replay.report;
  if (replay.killed) throw new StudioError('refused', 'the replay was stopped before it finished (the Studio closed)');
  const failure = replay.failure;
  if (failure) throw new StudioError(failure.code ?? 'internal', failure.message);
  const how = ended.signal ? `signal ${ended.signal}` : `exit code ${ended.code}`;
  const tail = replay.stderr.trim().split(/\r?\n/).slice(-STDERR_TAIL_LINES).join('\n');
  throw new StudioError('internal', `the replay process ended (${how}) before it reported${tail ? `; its last lines:\n${tail}` : ''}`);
}
