// Browser mode's upload endpoint: the same token, Host and Origin checks as the WebSocket (the
// token in a header, never a cookie or the query), a plain name for every path segment, one cap on
// a session's uploads, staging outside the workspace, and the staged folder imported by the one
// StudioApi call.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOKEN_HEADER } from '../../electron/contract.js';
import { sourceWorkspace } from '../import/import-helpers.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { type Served, httpRequest, rawExchange, serveWorkspace } from './server-helpers.js';

useTempWorkspaces();

async function serve(maxUploadBytes?: number): Promise<Served> {
  return serveWorkspace(maxUploadBytes !== undefined ? { server: { maxUploadBytes } } : {});
}

/** A request whose answer is JSON (or its text, under `text`). */
async function send(
  port: number,
  method: string,
  pathname: string,
  headers: Record<string, string>,
  body: Buffer = Buffer.alloc(0),
): Promise<{ status: number; json: Record<string, unknown> }> {
  const answer = await httpRequest(port, method, pathname, headers, body);
  try {
    return { status: answer.status, json: JSON.parse(answer.body) as Record<string, unknown> };
  } catch {
    return { status: answer.status, json: { text: answer.body } };
  }
}

/** Every file under `dir`, relative, with its bytes: what a page reads from a dropped folder. */
function filesOf(dir: string, prefix = ''): [string, Buffer][] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesOf(path.join(dir, entry.name), rel) : [[rel, fs.readFileSync(path.join(dir, entry.name))] as [string, Buffer]];
  });
}

describe('the upload endpoint', () => {
  it('stages a dropped run folder outside the workspace, which importFolders then imports; DELETE and close remove it', async () => {
    const { server, studio, root, auth, origin } = await serve();
    const source = path.join(await sourceWorkspace({ alpha: [100, 200] }), 'alpha');
    let folder = '';
    for (const [rel, bytes] of filesOf(source)) {
      const put = await send(server.port, 'PUT', `/upload/upload-0001/alpha/${rel.split('/').map(encodeURIComponent).join('/')}`, { ...auth, origin }, bytes);
      expect(put.status).toBe(201);
      folder = String(put.json.folder);
    }
    expect(folder.startsWith(os.tmpdir())).toBe(true);
    expect(folder.startsWith(root)).toBe(false);
    expect(filesOf(folder)).toEqual(filesOf(source));
    const report = await studio.api.importFolders({ sources: [folder] });
    expect(report.results[0]).toMatchObject({ ok: true, run: 'alpha', checkpoints: ['alpha/ckpt-000000100', 'alpha/ckpt-000000200'] });
    expect((await send(server.port, 'DELETE', '/upload/upload-0001', { ...auth, origin })).status).toBe(200);
    expect(fs.existsSync(folder)).toBe(false);
    await send(server.port, 'PUT', '/upload/upload-0002/beta/run.json', { ...auth, origin }, Buffer.from('{}'));
    const staging = path.dirname(path.dirname(folder));
    expect(fs.existsSync(path.join(staging, 'upload-0002'))).toBe(true);
    await server.close();
    expect(fs.existsSync(staging)).toBe(false);
  });

  it('refuses without the token, from a foreign or missing Origin, and to a foreign Host', async () => {
    const { server, auth, origin } = await serve();
    const body = Buffer.from('x');
    expect((await send(server.port, 'PUT', '/upload/upload-0001/a/b', { origin }, body)).status).toBe(403);
    expect((await send(server.port, 'PUT', '/upload/upload-0001/a/b', { [TOKEN_HEADER]: 'wrong', origin }, body)).status).toBe(403);
    // Where the token used to travel: a cookie, the query. Neither is a credential any more.
    expect((await send(server.port, 'PUT', '/upload/upload-0001/a/b', { cookie: `studio_token=${server.token}`, origin }, body)).status).toBe(403);
    expect((await send(server.port, 'PUT', `/upload/upload-0001/a/b?token=${server.token}`, { origin }, body)).status).toBe(403);
    expect((await send(server.port, 'PUT', '/upload/upload-0001/a/b', { ...auth, origin: 'http://evil.example' }, body)).status).toBe(403);
    expect((await send(server.port, 'PUT', '/upload/upload-0001/a/b', { ...auth }, body)).status).toBe(403);
    expect((await send(server.port, 'PUT', '/upload/upload-0001/a/b', { ...auth, origin, host: `evil.example:${server.port}` }, body)).status).toBe(403);
    expect((await send(server.port, 'PUT', '/upload/upload-0001/a/b', { ...auth, origin }, body)).status).toBe(201);
  });

  it('refuses a path that is not plain names (.., an encoded separator, a control character) and writes nothing', async () => {
    const { server, auth, origin } = await serve();
    const outside = path.join(os.tmpdir(), 'escaped-upload-canary');
    for (const bad of [
      '/upload/upload-0001/a/../../escaped-upload-canary',
      '/upload/upload-0001/a/%2e%2e/b',
      '/upload/upload-0001/a/x%2Fy',
      '/upload/upload-0001/a/x%0Ay',
      '/upload/../a/b',
      '/upload/upload-0001/onlyone',
    ]) {
      const answer = await send(server.port, 'PUT', bad, { ...auth, origin }, Buffer.from('x'));
      expect(answer.status, bad).toBe(400);
    }
    expect(fs.existsSync(outside)).toBe(false);
  });

  it('caps the bytes of one upload, announced or streamed, and keeps nothing of the refused file', async () => {
    const { server, auth, origin } = await serve(1000);
    const first = await send(server.port, 'PUT', '/upload/upload-0001/a/one', { ...auth, origin }, Buffer.alloc(600));
    expect(first.status).toBe(201);
    const staging = path.dirname(path.dirname(String(first.json.folder)));
    const over = await send(server.port, 'PUT', '/upload/upload-0001/a/two', { ...auth, origin }, Buffer.alloc(600));
    expect(over.status).toBe(413);
    expect(String(over.json.error)).toContain('at most 1000 bytes');
    // Chunked (no length announced): counted as it streams.
    const streamed = await send(
      server.port,
      'PUT',
      '/upload/upload-0002/a/big',
      { ...auth, origin, 'content-length': '', 'transfer-encoding': 'chunked' },
      Buffer.alloc(5000),
    );
    expect(streamed.status).toBe(413);
    expect(fs.existsSync(path.join(staging, 'upload-0002', 'a', 'big'))).toBe(false);
    expect(fs.existsSync(path.join(staging, 'upload-0001', 'a', 'two'))).toBe(false);
    const again = await send(server.port, 'PUT', '/upload/upload-0001/a/one', { ...auth, origin }, Buffer.alloc(10));
    expect(again.status).toBe(409);
  });

  it('holds the cap under parallel PUTs: of ten 900 B files under 1,000 B, exactly one is kept', async () => {
    const { server, auth, origin } = await serve(1000);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(server.port, 'PUT', `/upload/upload-0001/a/file-${i}`, { ...auth, origin }, Buffer.alloc(900))),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 413, 413, 413, 413, 413, 413, 413, 413, 413]);
    const kept = answers.find((a) => a.status === 201);
    expect(fs.readdirSync(String(kept?.json.folder))).toHaveLength(1);
  });

  it("counts every upload of the session against one cap, and frees an upload's bytes when it is deleted or fails", async () => {
    const { server, auth, origin } = await serve(1000);
    const put = (id: string, name: string, bytes: number): Promise<{ status: number }> =>
      send(server.port, 'PUT', `/upload/${id}/a/${name}`, { ...auth, origin }, Buffer.alloc(bytes));
    expect((await put('upload-0001', 'one', 600)).status).toBe(201);
    // Another upload id is no way around the cap.
    expect((await put('upload-0002', 'two', 600)).status).toBe(413);
    expect((await send(server.port, 'DELETE', '/upload/upload-0001', { ...auth, origin })).status).toBe(200);
    expect((await put('upload-0002', 'two', 600)).status).toBe(201);
    // A body that stops short of its announced length fails, and gives back what it reserved.
    const cut = await rawExchange(
      server.port,
      `PUT /upload/upload-0003/a/cut HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${TOKEN_HEADER}: ${server.token}\r\nOrigin: ${origin}\r\nContent-Length: 300\r\n\r\n${'x'.repeat(100)}`,
      { halfClose: true },
    );
    expect(cut.status).not.toBe(201);
    // The server notices the cut after the client has seen the connection end: ask until it has
    // (a refused PUT leaves nothing behind), and fail if the bytes never come back.
    await expect.poll(async () => (await put('upload-0003', 'fits', 400)).status).toBe(201);
  });
});
