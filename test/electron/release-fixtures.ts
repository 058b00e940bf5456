// What the launcher tests need instead of GitHub: a zip laid out like an Electron release (its
// "electron" is a Node script that records how it was started), and a mirror on 127.0.0.1 that
// serves files and records what was asked of it.
import { crc32 } from '@node-rs/crc32';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A stored (uncompressed) zip; each entry keeps its Unix mode, as Electron's zips do. */
export function makeZip(entries: readonly { name: string; data: Buffer; mode: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const crc = crc32(entry.data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode below counts
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | entry.mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.data);
    centrals.push(central, name);
    offset += local.length + name.length + entry.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/**
 * Stands in for Electron: writes its arguments and ELECTRON_RUN_AS_NODE as JSON to
 * $FAKE_ELECTRON_LOG and exits 3; with FAKE_ELECTRON_WAIT it runs until a SIGTERM, which it records.
 */
export const FAKE_ELECTRON = `#!/usr/bin/env node
const log = (extra) => require('node:fs').writeFileSync(process.env.FAKE_ELECTRON_LOG, JSON.stringify({ args: process.argv.slice(2), runAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null, ...extra }));
if (process.env.FAKE_ELECTRON_WAIT) {
  process.on('SIGTERM', () => { log({ signal: 'SIGTERM' }); process.exit(0); });
  setInterval(() => undefined, 1000);
  console.log('fake electron running');
} else {
  log({});
  process.exit(3);
}
`;

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface Mirror {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** Serves `files` (path → bytes) on 127.0.0.1; anything else is a 404. */
export async function startMirror(files: Record<string, Buffer>): Promise<Mirror> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://mirror').pathname;
    requests.push(`${request.method} ${path}`);
    const body = files[path];
    if (!body) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** An address nothing listens on: a port that was just free. */
export async function closedPortUrl(): Promise<string> {
  const mirror = await startMirror({});
  await mirror.close();
  return mirror.url;
}
