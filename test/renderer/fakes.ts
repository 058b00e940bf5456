// Test doubles for the renderer: a StudioApi whose answers each test chooses and whose events it
// sends, a WebSocket the client under test connects to, and data as the core would send it.
import {
  type CheckpointInfo,
  type RunInfo,
  type StudioApi,
  type StudioEventName,
  type StudioEventPayload,
  type StudioMethod,
  type StudioParams,
  type StudioResult,
  studioMethods,
} from '../../renderer/src/lib/contract';
import { StudioError } from '../../renderer/src/lib/contract';
import type { WebSocketLike } from '../../renderer/src/lib/ws-client';

type Handler<M extends StudioMethod> = (params: StudioParams<M> | undefined) => StudioResult<M> | Promise<StudioResult<M>>;

export class FakeStudio {
  readonly calls: { method: StudioMethod; params: unknown }[] = [];
  readonly api: StudioApi;
  private readonly handlers = new Map<StudioMethod, (params: unknown) => unknown>();
  private readonly listeners = new Map<StudioEventName, Set<(payload: unknown) => void>>();

  constructor() {
    const api: Record<string, unknown> = {
      on: (event: StudioEventName, listener: (payload: unknown) => void) => {
        const set = this.listeners.get(event) ?? new Set();
        set.add(listener);
        this.listeners.set(event, set);
        return () => set.delete(listener);
      },
    };
    for (const method of Object.keys(studioMethods) as StudioMethod[]) {
      api[method] = async (params?: unknown) => {
        this.calls.push({ method, params });
        const handler = this.handlers.get(method);
        if (!handler) throw new StudioError('internal', `the fake has no answer for ${method}`);
        return handler(params);
      };
    }
    this.api = api as StudioApi;
  }

  handle<M extends StudioMethod>(method: M, handler: Handler<M>): this {
    this.handlers.set(method, handler as (params: unknown) => unknown);
    return this;
  }

  emit<E extends StudioEventName>(event: E, payload: StudioEventPayload<E>): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) listener(payload);
  }

  listenerCount(event: StudioEventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  callsOf(method: StudioMethod): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.params);
  }
}

export function checkpoint(run: string, step: number, overrides: Partial<CheckpointInfo> = {}): CheckpointInfo {
  const name = `ckpt-${String(step).padStart(9, '0')}`;
  return {
    id: `${run}/${name}`,
    run,
    step,
    stepKnown: true,
    path: `/ws/${run}/${name}`,
    status: 'unverified',
    statusReason: null,
    bytes: 1000,
    epoch: 0,
    batchInEpoch: step,
    createdAt: `2026-01-01T00:00:${String(step % 60).padStart(2, '0')}.000Z`,
    trainingTimeMs: step * 10,
    saveBlockedMs: 3,
    source: null,
    metrics: { loss: 1 / (1 + step), val_loss: 1.1 / (1 + step) },
    backend: 'cpu',
    parent: null,
    origin: 'trained',
    linked: false,
    pinned: false,
    sameStepAs: [],
    // As the core says it: a pinned checkpoint is protected by its pin.
    protectedBy: overrides.pinned ? [{ kind: 'pinned', reason: 'pinned' }] : [],
    files: null,
    notes: [],
    ...overrides,
  };
}

export function run(name: string, overrides: Partial<RunInfo> = {}): RunInfo {
  return {
    name,
    path: `/ws/${name}`,
    layout: 'studio',
    label: null,
    latest: null,
    notes: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    parent: null,
    checkpointCount: 0,
    bytes: 0,
    writer: null,
    ...overrides,
  };
}

/** A WebSocket that connects when the test says, and records what the client sent. */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  readonly sent: string[] = [];
  closedByClient = false;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(data);
  }

  close(): void {
    this.closedByClient = true;
    this.drop();
  }

  /** The server accepted the upgrade. */
  accept(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  /** The server (or the network) went away; a refused upgrade ends the same way. */
  drop(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onerror?.(new Event('error'));
    this.onclose?.(new Event('close') as CloseEvent);
  }

  reply(message: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data: typeof message === 'string' ? message : JSON.stringify(message) }));
  }

  /** The calls the client sent, parsed. */
  calls(): { type: string; id: number; method: string; params: unknown }[] {
    return this.sent.map((s) => JSON.parse(s) as { type: string; id: number; method: string; params: unknown });
  }
}

export function socketFactory(): { sockets: FakeSocket[]; connect: (url: string) => FakeSocket } {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    connect: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
  };
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}
