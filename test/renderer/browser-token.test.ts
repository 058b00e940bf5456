// Browser mode's token in the page: taken from the address's fragment into this tab's
// sessionStorage and out of the address bar, kept across a reload, and offered to the server as a
// WebSocket subprotocol, never in the URL.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type TokenWindow, adoptToken, forgetHeldToken, tabToken } from '../../renderer/src/lib/browser-token';
import { WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../../renderer/src/lib/contract';
import { WsStudioClient } from '../../renderer/src/lib/ws-client';
import { FakeSocket } from './fakes';

/** A tab at `address`, with its own session storage and history. */
function tab(address: string, storage = new Map<string, string>()): TokenWindow & { address: () => string; storage: Map<string, string> } {
  const url = new URL(address);
  const win = {
    location: url,
    history: {
      state: null,
      replaceState: (_state: unknown, _unused: string, next?: string | URL | null) => {
        const moved = new URL(String(next), url);
        url.hash = moved.hash;
        url.pathname = moved.pathname;
        url.search = moved.search;
      },
    },
    sessionStorage: { getItem: (key: string) => storage.get(key) ?? null, setItem: (key: string, value: string) => void storage.set(key, value) },
    address: () => url.href,
    storage,
  };
  return win;
}

beforeEach(() => forgetHeldToken());
afterEach(() => forgetHeldToken());

describe("browser mode's token in the page", () => {
  it('moves the token from the fragment into the tab and out of the address bar', () => {
    const win = tab('http://127.0.0.1:4000/#token=secret-token_1');
    expect(adoptToken(win)).toBe('secret-token_1');
    expect(win.address()).toBe('http://127.0.0.1:4000/');
    expect([...win.storage.values()]).toEqual(['secret-token_1']);
  });

  it('keeps it across a reload of the tab (the address no longer has it)', () => {
    const first = tab('http://127.0.0.1:4000/#token=secret');
    adoptToken(first);
    forgetHeldToken();
    const reloaded = tab(first.address(), first.storage);
    expect(adoptToken(reloaded)).toBe('secret');
    expect(tabToken(reloaded)).toBe('secret');
  });

  it('has none in a tab opened without it', () => {
    expect(adoptToken(tab('http://127.0.0.1:4000/'))).toBeNull();
  });

  it('still holds it for this page when the browser refuses sessionStorage', () => {
    const win = tab('http://127.0.0.1:4000/#token=secret');
    const refusing = {
      ...win,
      sessionStorage: {
        getItem: () => {
          throw new DOMException('denied', 'SecurityError');
        },
        setItem: () => {
          throw new DOMException('denied', 'SecurityError');
        },
      },
    };
    expect(adoptToken(refusing)).toBe('secret');
    expect(win.address()).toBe('http://127.0.0.1:4000/');
  });

  it('is offered to the server as a subprotocol beside ours, and is not in the URL', () => {
    const offered: { url: string; protocols: string[] }[] = [];
    const client = new WsStudioClient({
      url: 'ws://127.0.0.1:4000/api',
      token: 'secret',
      random: () => 0.5,
      connect: (url, protocols) => {
        offered.push({ url, protocols });
        return new FakeSocket(url);
      },
    });
    expect(offered).toEqual([{ url: 'ws://127.0.0.1:4000/api', protocols: [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}secret`] }]);
    client.close();
  });

  it('is offered again on every reconnection', () => {
    vi.useFakeTimers();
    try {
      const offered: string[][] = [];
      const sockets: FakeSocket[] = [];
      const client = new WsStudioClient({
        url: 'ws://127.0.0.1:4000/api',
        token: 'secret',
        random: () => 0.5,
        connect: (url, protocols) => {
          offered.push(protocols);
          const socket = new FakeSocket(url);
          sockets.push(socket);
          return socket;
        },
      });
      sockets[0]?.accept();
      sockets[0]?.drop();
      vi.advanceTimersByTime(250);
      expect(offered).toHaveLength(2);
      expect(offered[1]).toEqual(offered[0]);
      client.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
