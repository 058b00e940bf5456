// One connected page: its calls (the contract's envelope) answered in any order, every Studio
// event sent to it. A frame that breaks the WebSocket protocol (too big, invalid UTF-8, a reserved
// opcode or bit, unmasked) ends this one socket with the close code that names the fault; the
// page reconnects, and the server and any training go on.
import { WebSocket } from 'ws';
import { type StudioApi, type StudioEventName, WsCallSchema, type WsReply, studioEvents } from '../contract.js';
import { errorData } from '../core/studio/errors.js';

export function serveSocket(ws: WebSocket, api: StudioApi, report: (line: string) => void): void {
  const send = (reply: WsReply): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    try {
      ws.send(JSON.stringify(reply));
    } catch (error) {
      report(`browser mode could not send a ${reply.type} to a page: ${errorData(error).message}`);
    }
  };
  const unsubscribe = (Object.keys(studioEvents) as StudioEventName[]).map((event) => api.on(event, (payload) => send({ type: 'event', event, payload })));
  ws.on('close', () => unsubscribe.forEach((off) => off()));
  // ws has already closed the socket with the fault's code (1009, 1007, 1002) when this fires:
  // the fault is the client's, and there is nothing more to do than not let it reach the process.
  ws.on('error', () => undefined);
  ws.on('message', (data, isBinary) => answer(api, send, isBinary ? null : data.toString()));
}

function answer(api: StudioApi, send: (reply: WsReply) => void, text: string | null): void {
  let raw: unknown = null;
  try {
    raw = text === null ? null : JSON.parse(text);
  } catch {
    raw = null;
  }
  const call = WsCallSchema.safeParse(raw);
  if (!call.success) {
    const id = typeof (raw as { id?: unknown } | null)?.id === 'number' ? Math.max(0, Math.trunc((raw as { id: number }).id)) : 0;
    send({
      type: 'error',
      id: Number.isSafeInteger(id) ? id : 0,
      error: { code: 'usage', message: `not a call this host understands: ${call.error.issues[0]?.message ?? 'invalid'}` },
    });
    return;
  }
  const { id, method, params } = call.data;
  const invoke = api[method] as (params?: unknown) => Promise<unknown>;
  void (async () => {
    try {
      // The receiver validates: the page checks every answer against the contract. Checking the
      // Studio's own typed output here too cost this process ~30 ms per 10,000 metric records,
      // time in which the watcher's events wait.
      send({ type: 'result', id, result: await invoke(params) });
    } catch (error) {
      send({ type: 'error', id, error: errorData(error) });
    }
  })();
}
