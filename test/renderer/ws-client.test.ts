// Browser mode's StudioApi over a WebSocket: the contract's envelope with increasing ids, every
// reply and event checked against the contract, errors with their code, and reconnection with
// backoff after the server goes away, listeners kept and the states told to re-read.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WsCallSchema } from '../../renderer/src/lib/contract';
import { StudioError } from '../../renderer/src/lib/contract';
import { type ConnectionInfo, WsStudioClient } from '../../renderer/src/lib/ws-client';
import { checkpoint, settle, socketFactory } from './fakes';

const URL = 'ws://127.0.0.1:9/api';

function client(): { client: WsStudioClient; sockets: ReturnType<typeof socketFactory>['sockets']; states: ConnectionInfo['status'][] } {
  const { sockets, connect } = socketFactory();
  const c = new WsStudioClient({ url: URL, connect, random: () => 0.5 });
  const states: ConnectionInfo['status'][] = [];
  c.onConnection((info) => states.push(info.status));
  return { client: c, sockets, states };
}

const snapshot = { workspace: '/ws', runs: [], checkpoints: [checkpoint('alpha', 1)], skipped: [] };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the WebSocket StudioApi', () => {
  it("connects to the page server's /api and sends each call in the envelope, with increasing ids", async () => {
    const { client: c, sockets } = client();
    expect(sockets[0]?.url).toBe(URL);
    expect(c.connection.status).toBe('connecting');
    // Calls made before the connection opens wait for it, in order.
    const first = c.api.snapshot();
    const second = c.api.listCheckpoints({ run: 'alpha' });
    expect(sockets[0]?.sent).toEqual([]);
    sockets[0]?.accept();
    expect(c.connection.status).toBe('open');
    const calls = sockets[0]?.calls() ?? [];
    expect(calls.map((m) => WsCallSchema.parse(m))).toEqual([
      { type: 'call', id: 1, method: 'snapshot', params: {} },
      { type: 'call', id: 2, method: 'listCheckpoints', params: { run: 'alpha' } },
    ]);
    // Answers may come in any order.
    sockets[0]?.reply({ type: 'result', id: 2, result: [checkpoint('alpha', 1)] });
    sockets[0]?.reply({ type: 'result', id: 1, result: snapshot });
    await expect(first).resolves.toEqual(snapshot);
    await expect(second).resolves.toEqual([checkpoint('alpha', 1)]);
  });

  it("rejects with the error's code and message, and refuses a result the contract does not allow", async () => {
    const { client: c, sockets } = client();
    sockets[0]?.accept();
    const missing = c.api.listCheckpoints({ run: 'nope' });
    const malformed = c.api.listRuns();
    sockets[0]?.reply({ type: 'error', id: 1, error: { code: 'not-found', message: 'nope: no such run in /ws' } });
    sockets[0]?.reply({ type: 'result', id: 2, result: [{ name: 'alpha' }] });
    const error = await missing.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StudioError);
    expect(error).toMatchObject({ code: 'not-found', message: 'nope: no such run in /ws' });
    await expect(malformed).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('listRuns') });
  });

  it('delivers events that match the contract, and turns any other message into a warning', () => {
    const { client: c, sockets } = client();
    sockets[0]?.accept();
    const added: string[] = [];
    const warnings: string[] = [];
    const off = c.api.on('catalog:added', (info) => added.push(info.id));
    c.api.on('warning', (w) => warnings.push(w.message));
    sockets[0]?.reply({ type: 'event', event: 'catalog:added', payload: checkpoint('alpha', 5) });
    sockets[0]?.reply({ type: 'event', event: 'catalog:added', payload: { id: 'alpha/ckpt-6' } });
    sockets[0]?.reply('not json');
    sockets[0]?.reply({ type: 'result', id: 99, result: null });
    sockets[0]?.reply({ type: 'error', id: 0, error: { code: 'usage', message: 'not a call this host understands' } });
    expect(added).toEqual(['alpha/ckpt-000000005']);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain('malformed catalog:added');
    expect(warnings[1]).toContain('does not understand');
    expect(warnings[2]).toContain('not a call this host understands');
    off();
    sockets[0]?.reply({ type: 'event', event: 'catalog:added', payload: checkpoint('alpha', 7) });
    expect(added).toEqual(['alpha/ckpt-000000005']);
  });

  it('fails calls in flight when the connection drops, reconnects with growing delays, and keeps its listeners', async () => {
    const { client: c, sockets, states } = client();
    const reconnected = vi.fn();
    c.onReconnect(reconnected);
    const events: number[] = [];
    c.api.on('catalog:removed', (e) => events.push(e.step));
    sockets[0]?.accept();
    const lost = c.api.deleteCheckpoints({ targets: ['alpha/ckpt-000000001'] });
    sockets[0]?.drop();
    await expect(lost).rejects.toMatchObject({ code: 'io' });
    expect(c.connection.status).toBe('reconnecting');

    // 250 ms, then 500 ms, then 1 s (±20%, here exactly) while the server stays away.
    vi.advanceTimersByTime(249);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    sockets[1]?.drop();
    vi.advanceTimersByTime(499);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(3);
    sockets[2]?.drop();
    expect(c.connection.failures).toBe(3);
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(4);

    // A call made while away is sent once the server is back.
    const waiting = c.api.trainingStatus();
    sockets[3]?.accept();
    expect(reconnected).toHaveBeenCalledTimes(1);
    expect(c.connection).toEqual({ status: 'open', failures: 0, retryAt: null });
    const call = sockets[3]?.calls()[0];
    expect(call?.method).toBe('trainingStatus');
    sockets[3]?.reply({ type: 'result', id: call?.id, result: { state: 'idle', run: null, lastExit: null } });
    await expect(waiting).resolves.toEqual({ state: 'idle', run: null, lastExit: null });

    sockets[3]?.reply({ type: 'event', event: 'catalog:removed', payload: { id: 'alpha/ckpt-000000001', run: 'alpha', step: 1 } });
    expect(events).toEqual([1]);
    expect(states.filter((s, i) => s !== states[i - 1])).toEqual(['open', 'reconnecting', 'open']);
  });

  it('caps the delay at five seconds', () => {
    const { client: c, sockets } = client();
    for (let i = 0; i < 10; i += 1) {
      sockets[sockets.length - 1]?.drop();
      vi.advanceTimersByTime(5000);
    }
    expect(sockets).toHaveLength(11);
    expect(c.connection.status).toBe('connecting');
  });

  it('stops for good when closed: pending calls fail and nothing reconnects', async () => {
    const { client: c, sockets } = client();
    const pending = c.api.snapshot();
    c.close();
    await expect(pending).rejects.toMatchObject({ code: 'io' });
    await expect(c.api.snapshot()).rejects.toMatchObject({ code: 'io' });
    vi.advanceTimersByTime(60_000);
    await settle();
    expect(sockets).toHaveLength(1);
    expect(c.connection.status).toBe('closed');
  });
});
