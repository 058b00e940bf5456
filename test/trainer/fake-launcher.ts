// A ChildLauncher that launches nothing: each child records what it is sent and killed with, and
// the test speaks for the trainer (numbered messages, output, exit) through its handlers.
import type { SessionEvent } from '../../electron/contract.js';
import type { ChildHandlers, ChildLauncher, LaunchSpec, LaunchedChild } from '../../electron/core/training/process/trainer-launcher.js';
import type { TrainerCommand } from '../../electron/core/training/process/trainer-protocol.js';

export class FakeChild implements LaunchedChild {
  readonly pid = 4242;
  readonly sent: TrainerCommand[] = [];
  readonly kills: string[] = [];
  connected = true;
  private seq = 0;

  constructor(
    readonly spec: LaunchSpec,
    readonly handlers: ChildHandlers,
  ) {}

  send(command: TrainerCommand): boolean {
    if (!this.connected) return false;
    this.sent.push(command);
    return true;
  }

  kill(signal: 'SIGTERM' | 'SIGKILL'): void {
    this.kills.push(signal);
  }

  /** A message from the trainer, numbered like the real one numbers them. */
  say(message: Record<string, unknown>): void {
    this.seq += 1;
    this.handlers.message({ seq: this.seq, ...message });
  }

  event(event: SessionEvent): void {
    this.say({ type: 'event', event });
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.connected = false;
    this.handlers.exit(code, signal);
  }
}

export class FakeLauncher implements ChildLauncher {
  readonly children: FakeChild[] = [];

  launch(spec: LaunchSpec, handlers: ChildHandlers): LaunchedChild {
    const child = new FakeChild(spec, handlers);
    this.children.push(child);
    return child;
  }

  get last(): FakeChild {
    const child = this.children.at(-1);
    if (!child) throw new Error('nothing launched');
    return child;
  }
}
