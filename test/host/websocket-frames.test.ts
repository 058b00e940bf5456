// A frame that breaks the WebSocket protocol ends that one socket with the close code naming the
// fault (RFC 6455 §7.4.1), and nothing else: the server serves the next socket, and the page's
// client reconnects.
import { describe, expect, it } from 'vitest';
import { useTempWorkspaces } from '../store/helpers.js';
import { callOver, failOnEscapes, connectWs, frame, rawWebSocket, serveWorkspace } from './server-helpers.js';

useTempWorkspaces();
failOnEscapes();

const TEXT = 0x1;
const CONTINUATION = 0x0;
/** ws's limit for one message in browser mode (MAX_MESSAGE_BYTES). */
const LIMIT = 4 * 1024 * 1024;

const faults: [string, Buffer, number][] = [
  ['a message over the size limit', frame({ opcode: TEXT, announced: LIMIT + 1 }), 1009],
  ['text that is not UTF-8', frame({ opcode: TEXT, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }), 1007],
  ['a reserved opcode', frame({ opcode: 0x3, payload: Buffer.from('{}') }), 1002],
  ['RSV1 without an extension', frame({ opcode: TEXT, rsv: 4, payload: Buffer.from('{}') }), 1002],
  ['an unmasked frame from a client', frame({ opcode: TEXT, masked: false, payload: Buffer.from('{}') }), 1002],
  ['a continuation with nothing to continue', frame({ opcode: CONTINUATION, payload: Buffer.from('{}') }), 1002],
  ['a control frame in fragments', frame({ opcode: 0x9, fin: false, payload: Buffer.from('x') }), 1002],
];

describe('a WebSocket frame that breaks the protocol', () => {
  for (const [what, bytes, code] of faults) {
    it(`(${what}) closes that socket with ${code}, and the server goes on`, async () => {
      const served = await serveWorkspace();
      const bystander = await connectWs(served.server);
      const ws = await rawWebSocket(served.server);
      ws.send(bytes);
      expect(await ws.closed).toBe(code);
      // The socket that did nothing wrong stays open and answered, and a new one is accepted.
      expect(await callOver(bystander, 1, 'listRuns', {})).toEqual({ type: 'result', id: 1, result: [] });
      const next = await connectWs(served.server);
      expect(await callOver(next, 1, 'listRuns', {})).toEqual({ type: 'result', id: 1, result: [] });
      next.close();
      bystander.close();
      expect(served.reports).toEqual([]);
    });
  }
});
