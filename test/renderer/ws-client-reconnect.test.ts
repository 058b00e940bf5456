// Browser mode's client over a real WebSocket: the page's own WebSocket class (happy-dom's, as a
// browser's) talking to a `ws` server in this process that speaks the contract's envelope. The
// connection drops with a call in flight: the call fails with an 'io' StudioError (it may or may
// not have run, so it is never resent); while the server refuses, the client retries with growing
// delays; once it is back, the client says so (the page re-reads its state then), the listeners
// hear events from the new connection, and calls go through again.
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket as ServerSocket } from 'ws';
import { backoffDelay } from '../../renderer/src/lib/backoff';
import { StudioError, type TrainingStatus, WsCallSchema } from '../../renderer/src/lib/contract';
import { type ConnectionInfo, WsStudioClient } from '../../renderer/src/lib/ws-client';
import { checkpoint } from './fakes';

// Node's own require: this project resolves packages as a browser would, which gives ws's stub.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');

const WAIT_MS = 10_000;
const IDLE: TrainingStatus = { state: 'idle', run: null, lastExit: null };
/** The spread of the backoff fixed at its low end, so its delays are known. */
const RANDOM = (): number => 0;

interface Call {
  readonly socket: ServerSocket;
  readonly id: number;
  readonly method: string;
}

/**
 * A server of the contract's envelope: it answers trainingStatus, holds every other call
 * unanswered (a call in flight), and refuses upgrades while `refusing` is set, as a server that
 * went away and whose port is not yet taken again would.
 */
class ApiServer {
  readonly calls: Call[] = [];
  refusing = false;
  private readonly http = http.createServer((_, res) => res.writeHead(404).end());
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly waiting = new Set<() => void>();

  async start(): Promise<string> {
    this.http.on('upgrade', (request, socket, head) => {
      if (this.refusing) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
    });
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}/api`;
  }

  get sockets(): ServerSocket[] {
    return [...this.wss.clients];
  }

  /** Resolves with the first call of `method` received (already, or when it comes). */
  async nextCall(method: string, after = 0): Promise<Call> {
    await this.until(`a ${method} call`, () => this.calls.slice(after).some((c) => c.method === method));
    return this.calls.slice(after).find((c) => c.method === method) as Call;
  }

  /** Resolves when `done` holds, looked at after each message the server receives and each socket that closes. */
  until(what: string, done: () => boolean): Promise<void> {
    return waitUntil(what, done, (check) => {
      this.waiting.add(check);
      return () => this.waiting.delete(check);
    });
  }

  event(socket: ServerSocket, event: string, payload: unknown): void {
    socket.send(JSON.stringify({ type: 'event', event, payload }));
  }

  async close(): Promise<void> {
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accept(socket: ServerSocket): void {
    socket.on('message', (data) => {
      const call = WsCallSchema.parse(JSON.parse(String(data)));
      this.calls.push({ socket, id: call.id, method: call.method });
      if (call.method === 'trainingStatus') socket.send(JSON.stringify({ type: 'result', id: call.id, result: IDLE }));
      this.notify();
    });
    socket.on('close', () => this.notify());
  }

  private notify(): void {
    for (const check of [...this.waiting]) check();
  }
}

/** Resolves when `done` holds, checked now and whenever `subscribe`'s source calls back; fails after WAIT_MS. */
function waitUntil(what: string, done: () => boolean, subscribe: (check: () => void) => () => void, seen: () => string = () => ''): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}${seen()}`));
    }, WAIT_MS);
    const off = subscribe(() => {
      if (!done()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Every connection state the client went through, with when it was reported. */
function followConnection(client: WsStudioClient): {
  states: (ConnectionInfo & { at: number })[];
  until: (what: string, done: (info: ConnectionInfo) => boolean) => Promise<void>;
} {
  const states: (ConnectionInfo & { at: number })[] = [];
  const listeners = new Set<() => void>();
  client.onConnection((info) => {
    states.push({ ...info, at: Date.now() });
    for (const listener of [...listeners]) listener();
  });
  return {
    states,
    until: (what, done) =>
      waitUntil(
        what,
        () => done(client.connection),
        (check) => {
          listeners.add(check);
          return () => listeners.delete(check);
        },
        () => `; the states were ${states.map((s) => `${s.status}/${s.failures}`).join(', ')}`,
      ),
  };
}

/**
 * The client as browser mode makes it, on the test server's address. Browser mode's credential
 * (the token the page was opened with) would be given here; this server asks for none.
 */
function connectClient(url: string): WsStudioClient {
  return new WsStudioClient({ url, random: RANDOM });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(): Promise<{ server: ApiServer; client: WsStudioClient; connection: ReturnType<typeof followConnection> }> {
  const server = new ApiServer();
  const url = await server.start();
  cleanups.push(() => server.close());
  const client = connectClient(url);
  cleanups.push(() => client.close());
  const connection = followConnection(client);
  await connection.until('the first connection', (info) => info.status === 'open');
  return { server, client, connection };
}

describe('the WebSocket client over a real connection', () => {
  it('fails the call in flight when the connection drops, retries with growing delays, then reconnects, says so, and works again', async () => {
    const { server, client, connection } = await setUp();
    let reconnects = 0;
    client.onReconnect(() => (reconnects += 1));
    const added: string[] = [];
    client.api.on('catalog:added', (info) => added.push(info.id));
    await expect(client.api.trainingStatus()).resolves.toEqual(IDLE);

    // A call the server has received but not answered when the connection goes.
    const inFlight = client.api.deleteCheckpoints({ targets: ['alpha/ckpt-000000001'] });
    const held = await server.nextCall('deleteCheckpoints');
    server.refusing = true;
    held.socket.terminate();
    const error = await inFlight.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StudioError);
    expect(error).toMatchObject({ code: 'io', message: expect.stringContaining('lost before it answered') });

    // Three refused attempts: the delay before each next one doubles (250 ms, 500 ms, 1 s, here at
    // the low end of their ±20%).
    await connection.until('three failed attempts', (info) => info.failures >= 3);
    const retries = connection.states.filter((s) => s.retryAt !== null);
    expect(retries.map((s) => s.failures).slice(0, 3)).toEqual([1, 2, 3]);
    retries.slice(0, 3).forEach((s, i) => {
      const delay = (s.retryAt ?? 0) - s.at;
      expect(delay).toBeLessThanOrEqual(backoffDelay(i, RANDOM));
      expect(delay).toBeGreaterThan(backoffDelay(i, RANDOM) - 50);
    });
    expect(reconnects).toBe(0);

    // A call made while away waits for the connection, and is sent once it is back.
    const waiting = client.api.trainingStatus();
    const before = server.calls.length;
    server.refusing = false;
    await connection.until('the connection back', (info) => info.status === 'open');
    expect(reconnects).toBe(1);
    expect(client.connection).toEqual({ status: 'open', failures: 0, retryAt: null });
    await expect(waiting).resolves.toEqual(IDLE);
    expect(server.calls.slice(before).map((c) => c.method)).toEqual(['trainingStatus']);
    // Never resent: the lost call reached the old connection only.
    expect(server.calls.filter((c) => c.method === 'deleteCheckpoints')).toHaveLength(1);

    // The listeners hear the new connection's events, and calls go through.
    const [socket] = server.sockets;
    if (!socket) throw new Error('no connection on the server');
    server.event(socket, 'catalog:added', checkpoint('alpha', 7));
    await waitUntil(
      'the event after reconnecting',
      () => added.length > 0,
      (check) => client.api.on('catalog:added', check),
    );
    expect(added).toEqual(['alpha/ckpt-000000007']);
    await expect(client.api.trainingStatus()).resolves.toEqual(IDLE);
    expect(connection.states.map((s) => s.status).filter((s, i, all) => s !== all[i - 1])).toEqual(['open', 'reconnecting', 'open']);
  });

  it('closed for good, fails what is pending and does not reconnect', async () => {
    const { server, client, connection } = await setUp();
    const pending = client.api.snapshot();
    await server.nextCall('snapshot');
    client.close();
    await expect(pending).rejects.toMatchObject({ code: 'io' });
    await expect(client.api.trainingStatus()).rejects.toBeInstanceOf(StudioError);
    await server.until('the socket to close', () => server.sockets.length === 0);
    expect(connection.states.at(-1)?.status).toBe('closed');
    expect(server.calls.map((c) => c.method)).toEqual(['snapshot']);
  });
});
