// Browser mode's StudioApi: the same object Electron's preload exposes, spoken over one WebSocket
// to `/api` of the page's own server with the contract's envelope. Every reply and every event
// is checked against the contract's schemas before anyone sees it. The page authenticates by
// offering its token as a second subprotocol (browser-token.ts says where the token comes from):
// the one request header a page may set on a WebSocket, sent only to the page's own server.
import { backoffDelay } from './backoff.js';
import {
  type StudioApi,
  type StudioEventName,
  type StudioListener,
  type StudioMethod,
  WS_PROTOCOL,
  WS_TOKEN_PROTOCOL_PREFIX,
  WsReplySchema,
  studioEvents,
  studioMethods,
} from './contract.js';
import { StudioError } from './contract.js';

/** What this client needs of a WebSocket: the browser's, or a fake in tests. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  send(data: string): void;
  close(): void;
}
export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

const OPEN = 1;

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionInfo {
  readonly status: ConnectionStatus;
  /** Failed attempts since the connection was last open. */
  readonly failures: number;
  /** When the next attempt starts (epoch ms), while reconnecting. */
  readonly retryAt: number | null;
}

export interface WsClientOptions {
  /** ws(s)://host/api; by default the page's own server. */
  readonly url?: string;
  /** Browser mode's token (null: none, and the server will refuse the connection). */
  readonly token?: string | null;
  readonly connect?: WebSocketFactory;
  readonly random?: () => number;
}

/** What the page offers as subprotocols: ours, and its token. */
export function offeredProtocols(token: string | null): string[] {
  return token === null ? [WS_PROTOCOL] : [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${token}`];
}

interface Pending {
  readonly method: StudioMethod;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

type AnyListener = (payload: unknown) => void;

export function defaultApiUrl(location: Location): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api`;
}

export class WsStudioClient {
  readonly api: StudioApi;
  private socket: WebSocketLike | null = null;
  private nextId = 1;
  /** Sent and waiting for their reply. */
  private readonly inFlight = new Map<number, Pending>();
  /** Called while no connection was open: sent, in order, once one is. */
  private queued: { id: number; text: string; pending: Pending }[] = [];
  private readonly listeners = new Map<StudioEventName, Set<AnyListener>>();
  private readonly connectionListeners = new Set<(info: ConnectionInfo) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  private info: ConnectionInfo = { status: 'connecting', failures: 0, retryAt: null };
  private everOpened = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly url: string;
  private readonly token: string | null;
  private readonly protocols: string[];
  private readonly connectSocket: WebSocketFactory;
  private readonly random: () => number;

  constructor(options: WsClientOptions = {}) {
    this.url = options.url ?? defaultApiUrl(window.location);
    this.token = options.token ?? null;
    this.protocols = offeredProtocols(this.token);
    this.connectSocket = options.connect ?? ((url, protocols) => new WebSocket(url, protocols));
    this.random = options.random ?? Math.random;
    this.api = this.buildApi();
    this.open();
  }

  get missingToken(): boolean {
    return this.token === null;
  }

  get connection(): ConnectionInfo {
    return this.info;
  }

  onConnection(listener: (info: ConnectionInfo) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /**
   * After a connection is open again: events sent while it was down are lost, so whoever keeps
   * state re-reads it. (The server sends every event to every socket, so the event listeners
   * themselves need no re-registration: they stay here and receive from the new socket.)
   */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** Closes for good: pending calls fail, no reconnection. */
  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.failAll('the connection to the Studio was closed');
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.setInfo({ status: 'closed', failures: this.info.failures, retryAt: null });
  }

  private buildApi(): StudioApi {
    const api: Record<string, unknown> = {
      on: <E extends StudioEventName>(event: E, listener: StudioListener<E>): (() => void) => {
        const set = this.listeners.get(event) ?? new Set<AnyListener>();
        set.add(listener as AnyListener);
        this.listeners.set(event, set);
        return () => {
          set.delete(listener as AnyListener);
        };
      },
    };
    for (const method of Object.keys(studioMethods) as StudioMethod[]) {
      api[method] = (params?: unknown) => this.call(method, params);
    }
    // Built from the contract's own table of methods, so it has exactly StudioApi's members.
    return api as StudioApi;
  }

  private call(method: StudioMethod, params: unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(new StudioError('io', 'the connection to the Studio was closed'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const pending: Pending = { method, resolve, reject };
      const text = JSON.stringify({ type: 'call', id, method, params: params ?? {} });
      if (this.socket && this.socket.readyState === OPEN) {
        this.inFlight.set(id, pending);
        this.socket.send(text);
      } else {
        this.queued.push({ id, text, pending });
      }
    });
  }

  private open(): void {
    if (this.closed) return;
    this.retryTimer = null;
    this.setInfo({ status: this.everOpened ? 'reconnecting' : 'connecting', failures: this.info.failures, retryAt: null });
    let socket: WebSocketLike;
    try {
      socket = this.connectSocket(this.url, this.protocols);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => this.opened(socket);
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(event.data);
    };
    // A refused upgrade, a server that went away, a network change: all end in a close.
    socket.onerror = () => undefined;
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.failAll('the connection to the Studio was lost before it answered; look at the checkpoints before trying again');
      this.scheduleRetry();
    };
  }

  private opened(socket: WebSocketLike): void {
    if (this.socket !== socket) return;
    const reconnected = this.everOpened;
    this.everOpened = true;
    this.setInfo({ status: 'open', failures: 0, retryAt: null });
    const queued = this.queued;
    this.queued = [];
    for (const { id, text, pending } of queued) {
      this.inFlight.set(id, pending);
      socket.send(text);
    }
    if (reconnected) for (const listener of [...this.reconnectListeners]) listener();
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    const failures = (this.info.status === 'open' ? 0 : this.info.failures) + 1;
    const delay = backoffDelay(failures - 1, this.random);
    this.setInfo({ status: this.everOpened ? 'reconnecting' : 'connecting', failures, retryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  /** Calls already sent cannot be known to have run or not: they fail, never silently resent. */
  private failAll(message: string): void {
    const inFlight = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const pending of inFlight) pending.reject(new StudioError('io', message));
    if (this.closed) {
      const queued = this.queued;
      this.queued = [];
      for (const { pending } of queued) pending.reject(new StudioError('io', message));
    }
  }

  private receive(data: unknown): void {
    let raw: unknown;
    try {
      raw = typeof data === 'string' ? JSON.parse(data) : null;
    } catch {
      raw = null;
    }
    const reply = WsReplySchema.safeParse(raw);
    if (!reply.success) {
      this.warn(`the Studio sent a message this page does not understand: ${reply.error.issues[0]?.message ?? 'invalid'}`);
      return;
    }
    const message = reply.data;
    if (message.type === 'event') {
      const payload = studioEvents[message.event].safeParse(message.payload);
      if (!payload.success) {
        this.warn(`the Studio sent a malformed ${message.event} event: ${payload.error.issues[0]?.message ?? 'invalid'}`);
        return;
      }
      this.emit(message.event, payload.data);
      return;
    }
    const pending = this.inFlight.get(message.id);
    if (!pending) {
      // Id 0 answers a message the server could not read at all: nothing of ours waits for it.
      if (message.type === 'error') this.warn(`the Studio refused a message: ${message.error.message}`);
      return;
    }
    this.inFlight.delete(message.id);
    if (message.type === 'error') {
      pending.reject(new StudioError(message.error.code, message.error.message));
      return;
    }
    const result = studioMethods[pending.method].result.safeParse(message.result);
    if (result.success) pending.resolve(result.data);
    else
      pending.reject(
        new StudioError('internal', `the Studio's answer to ${pending.method} is not what the contract says: ${result.error.issues[0]?.message ?? 'invalid'}`),
      );
  }

  private emit(event: StudioEventName, payload: unknown): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        // One broken listener must not starve the others of the event.
        console.error(`a listener of ${event} failed`, error);
      }
    }
  }

  private warn(message: string): void {
    this.emit('warning', { message });
  }

  private setInfo(info: ConnectionInfo): void {
    this.info = info;
    for (const listener of [...this.connectionListeners]) listener(info);
  }
}
