// A real S3 engine for the tests: a one-machine Ceph cluster (one monitor, one in-memory
// `memstore` OSD) and its RADOS Gateway on 127.0.0.1, auth off, in a folder of its own with ports
// of its own, so test files (and CI jobs) never share one by accident. From nothing to the first
// PUT takes about 3 s. Debian's packages provide it:
//   apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common
// (../shared/ceph-rgw/README.md has the notes this follows and the pitfalls found.)
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CEPH_PACKAGES = ['ceph-mon', 'ceph-osd', 'radosgw', 'ceph-common'] as const;
export const INSTALL_HINT = `apt-get install -y --no-install-recommends ${CEPH_PACKAGES.join(' ')}`;
const BINARIES = ['monmaptool', 'ceph-mon', 'ceph-osd', 'ceph', 'radosgw', 'radosgw-admin'] as const;
const SEARCH_PATH = (process.env['PATH'] ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/sbin', '/usr/local/bin']);

export const ACCESS_KEY = 'TESTACCESSKEY';
export const SECRET_KEY = 'TESTSECRETKEY';

export interface Gateway {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly port: number;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The cluster's folder (configuration, logs, pid files). */
  readonly dir: string;
  /** Stops the gateway alone (the cluster keeps its objects): a fault a test can cause. */
  stopGateway(): Promise<void>;
  /** Starts the gateway again on the same port, with the same objects. */
  startGateway(): Promise<void>;
  /** Stops every daemon and removes the folder. */
  stop(): Promise<void>;
}

function which(binary: string, searchPath: readonly string[]): string | null {
  for (const dir of searchPath) {
    const candidate = path.join(dir, binary);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return null;
}

/** The Ceph programs not found on this machine (empty when the gateway can run). */
export function missingCephBinaries(searchPath: readonly string[] = SEARCH_PATH): string[] {
  return BINARIES.filter((b) => which(b, searchPath) === null);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The gateway's ceph.conf. `tcp_nodelay=1`: without it, beast's answers that carry a body (a LIST,
 * a small GET) wait ~44 ms on Nagle's algorithm against the client's delayed ACK over loopback, a
 * delay no real store across a network adds; with it they take 2–3 ms, like a HEAD.
 */
function configuration(
  dir: string,
  fsid: string,
  ports: { rgw: number; monV1: number; monV2: number },
  memoryBytes: number,
  gatewaySettings: Readonly<Record<string, string>>,
): string {
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${ports.monV2},v1:127.0.0.1:${ports.monV1}]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
# radosgw asks for the 'secure' messenger mode towards the monitor unless told: impossible with auth none
ms mon client mode = crc
ms client mode = crc
ms mon service mode = crc
ms mon cluster mode = crc
ms service mode = crc
ms cluster mode = crc
run dir = ${dir}/run
pid file = ${dir}/run/$name.pid
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
keyring = /dev/null
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
paxos propose interval = 0.05
paxos min wait = 0.01
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = memstore
memstore device bytes = ${memoryBytes}
osd data = ${dir}/osd/$id
mon data = ${dir}/mon/$id
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${ports.rgw} tcp_nodelay=1
rgw data = ${dir}/rgw
${Object.entries(gatewaySettings)
  .map(([name, value]) => `${name} = ${value}\n`)
  .join('')}`;
}

async function until(what: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Ceph test gateway: ${what} not ready after ${timeoutMs / 1000} s`);
}

async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

function pidOf(dir: string, name: string, file = path.join(dir, 'run', `${name}.pid`)): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs` (radosgw waits for its clients' connections to close). */
async function kill(pid: number, graceMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

const PREFIX = 'cs-ceph-';
const OWNER_FILE = 'owner.pid';

/**
 * Ceph's daemons detach from whoever starts them: a test process killed before its teardown
 * leaves a cluster running. Each cluster's folder names its owner; one whose owner is gone is
 * stopped and removed by the next start.
 */
async function reapOrphans(): Promise<void> {
  for (const name of readdirSync(os.tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = path.join(os.tmpdir(), name);
    const owner = pidOf(dir, 'owner', path.join(dir, OWNER_FILE));
    if (owner !== null && alive(owner)) continue;
    for (const daemon of ['client.rgw', 'osd.0', 'mon.a']) {
      const pid = pidOf(dir, daemon);
      if (pid !== null) await kill(pid);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts a cluster and its gateway in a fresh folder (under the temp folder unless given). */
export async function startCephGateway(
  options: {
    memoryBytes?: number;
    /** More [client.rgw] settings (a fault test's: `rgw max concurrent requests`). */
    gatewaySettings?: Readonly<Record<string, string>>;
  } = {},
): Promise<Gateway> {
  const missing = missingCephBinaries();
  if (missing.length > 0) throw new Error(`Ceph test gateway: ${missing.join(', ')} not found; install them: ${INSTALL_HINT}`);
  await reapOrphans();
  const dir = mkdtempSync(path.join(os.tmpdir(), PREFIX));
  writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  for (const sub of ['mon/a', 'osd/0', 'run', 'log', 'rgw']) mkdirSync(path.join(dir, sub), { recursive: true });
  const ports = { rgw: await freePort(), monV1: await freePort(), monV2: await freePort() };
  const conf = path.join(dir, 'ceph.conf');
  const fsid = randomUUID();
  writeFileSync(conf, configuration(dir, fsid, ports, options.memoryBytes ?? 1024 ** 3, options.gatewaySettings ?? {}));
  const ceph = (binary: (typeof BINARIES)[number], ...args: string[]) => run(binary, ['-c', conf, ...args], { timeout: 60_000 });
  const stopAll = async (): Promise<void> => {
    for (const name of ['client.rgw', 'osd.0', 'mon.a']) {
      const pid = pidOf(dir, name);
      // Torn down: nothing of the cluster is kept, so no need to wait on a graceful exit.
      if (pid !== null) await kill(pid, 2_000);
    }
  };
  try {
    await run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${ports.monV2},v1:127.0.0.1:${ports.monV1}]`, path.join(dir, 'monmap')]);
    await ceph('ceph-mon', '--mkfs', '-i', 'a', '--monmap', path.join(dir, 'monmap'));
    await ceph('ceph-mon', '-i', 'a');
    const osdUuid = randomUUID();
    const { stdout: osdId } = await ceph('ceph', 'osd', 'new', osdUuid);
    await ceph('ceph-osd', '-i', osdId.trim(), '--mkfs', '--osd-uuid', osdUuid);
    await ceph('ceph-osd', '-i', osdId.trim());
    await until('the OSD', async () => (await ceph('ceph', 'osd', 'stat')).stdout.includes('1 up'), 60_000);
    // A restart waits for the last stop: a radosgw still shutting down (seconds, with clients
    // connected) holds its pid file, and the new one exits at once.
    let stopping: Promise<void> = Promise.resolve();
    const startGateway = async (): Promise<void> => {
      await stopping;
      await ceph('radosgw', '-n', 'client.rgw');
      await until('radosgw', () => answers(ports.rgw), 60_000);
    };
    await startGateway();
    await ceph('radosgw-admin', 'user', 'create', '--uid=test', '--display-name=test', `--access-key=${ACCESS_KEY}`, `--secret-key=${SECRET_KEY}`);
    return {
      endpoint: `http://127.0.0.1:${ports.rgw}`,
      port: ports.rgw,
      accessKeyId: ACCESS_KEY,
      secretAccessKey: SECRET_KEY,
      dir,
      stopGateway() {
        const pid = pidOf(dir, 'client.rgw');
        stopping = pid === null ? Promise.resolve() : kill(pid);
        return stopping;
      },
      startGateway,
      async stop() {
        await stopAll();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    const logs = existsSync(path.join(dir, 'log')) ? readdirSync(path.join(dir, 'log')) : [];
    await stopAll();
    const detail = logs
      .map(
        (l) =>
          `${l}: ${readFileSync(path.join(dir, 'log', l), 'utf8')
            .split('\n')
            .slice(-5)
            .join(' | ')}`,
      )
      .join('\n');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${detail}`);
  }
}
