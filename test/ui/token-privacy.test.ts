// Browser mode's token stays with the page it was printed for: after the app is opened with it,
// another web server on 127.0.0.1 (another port, as any local program may run) receives no cookie
// and no token, whether the page navigates there or the user opens it in another tab; the address
// bar and the browser's cookies no longer hold it; and a reload of the tab still works.
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { onCleanup } from '../store/helpers.js';
import { expectNoProblems, useUi, writeRun } from './harness.js';

const open = useUi();

interface Received {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** Another local web server, which records every request it receives. */
async function otherServer(): Promise<{ origin: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    received.push({ url: request.url ?? '', headers: request.headers });
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>another server</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

describe("browser mode's token", () => {
  it('reaches no other server on 127.0.0.1, leaves the address bar, and lasts through a reload of its tab', { timeout: 60_000 }, async () => {
    const world = await open(async (store) => writeRun(store, 'alpha', [1, 2]));
    const { page, server } = world;
    const app = `http://127.0.0.1:${server.port}/`;
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getAttribute('data-count')).toBe('2');
    expect(page.url()).toBe(app);
    expect(await page.context().cookies()).toEqual([]);

    const other = await otherServer();
    // The page itself goes there (a link followed), then the user opens it in another tab.
    await page.evaluate((target) => window.location.assign(target), `${other.origin}/followed`);
    await page.waitForURL(`${other.origin}/followed`);
    const tab = await page.context().newPage();
    await tab.goto(`${other.origin}/typed`);
    expect(other.received.map((r) => r.url)).toEqual(expect.arrayContaining(['/followed', '/typed']));
    for (const { url, headers } of other.received) {
      expect(headers.cookie, url).toBeUndefined();
      expect(JSON.stringify({ url, headers }), url).not.toContain(server.token);
    }

    // Back in the app's tab, by its address without the token: the tab still holds it.
    await page.goto(app);
    await expect.poll(() => page.getByRole('listbox', { name: 'Checkpoints' }).getAttribute('data-count')).toBe('2');
    await page.reload();
    await expect.poll(() => page.getByRole('listbox', { name: 'Checkpoints' }).getAttribute('data-count')).toBe('2');
    expect(page.url()).toBe(app);
    expectNoProblems(world);
  });

  it('is not known to a new tab opened at the address without it: that tab cannot reach the Studio', { timeout: 60_000 }, async () => {
    const world = await open(async (store) => writeRun(store, 'alpha', [1]));
    const tab = await world.page.context().newPage();
    await tab.goto(`http://127.0.0.1:${world.server.port}/`);
    // The badge says at once what is missing and what to do; the Studio refuses the tab meanwhile.
    await expect
      .poll(() => tab.getByRole('status').filter({ hasText: 'This tab has no access token: open the address checkpoint-studio printed' }).count(), {
        timeout: 20_000,
      })
      .toBe(1);
    expect(await tab.getByRole('listbox', { name: 'Checkpoints' }).getAttribute('data-count')).not.toBe('1');
  });
});
