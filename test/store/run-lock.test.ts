import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefusedError, RunLockedError } from '../../electron/core/base/errors.js';
import { acquireRunLock, isProcessAlive, liveLockHolder } from '../../electron/core/checkpoint/run-lock.js';
import { RunWriter } from '../../electron/core/checkpoint/run-writer.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { deadPid, liveProcess, names, readJson, rejectionOf, snapshotTree, trainingState, useTempWorkspaces, writeLockFile } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

function runFolder(): string {
  const { base } = makeWorkspace();
  const dir = path.join(base, 'run');
  fs.mkdirSync(dir);
  return dir;
}

describe('the run lock', () => {
  it('names its holder, refuses a second holder naming pid and host, and is removed on release', async () => {
    const dir = runFolder();
    const lock = await acquireRunLock(dir);
    const onDisk = readJson(path.join(dir, '.lock'));
    expect(onDisk).toEqual({ pid: process.pid, host: os.hostname(), since: lock.holder.since, token: lock.token });
    expect(lock.token).toMatch(/^[0-9a-f]{24}$/);

    const error = await rejectionOf(acquireRunLock(dir), RunLockedError);
    expect(error.holder.pid).toBe(process.pid);
    expect(error.holder.host).toBe(os.hostname());
    expect(error.message).toBe(`${dir}: locked by process ${process.pid} on ${os.hostname()} since ${lock.holder.since}`);
    // The refused attempt leaves nothing behind.
    expect(names(dir)).toEqual(['.lock']);

    await lock.release();
    expect(names(dir)).toEqual([]);
    await lock.release();
    const next = await acquireRunLock(dir);
    expect(next.token).not.toBe(lock.token);
    await next.release();
  });

  it('takes over a lock whose process is dead on this host', async () => {
    const dir = runFolder();
    const pid = await deadPid();
    expect(isProcessAlive(pid)).toBe(false);
    writeLockFile(dir, pid);
    expect(await liveLockHolder(dir)).toBeNull();
    const lock = await acquireRunLock(dir);
    expect(readJson(path.join(dir, '.lock'))).toMatchObject({ pid: process.pid, token: lock.token });
    // The stale lock was moved aside and removed, not left as .lock.stale-*.
    expect(names(dir)).toEqual(['.lock']);
    await lock.release();
  });

  it('takes over an unreadable lock file', async () => {
    const dir = runFolder();
    fs.writeFileSync(path.join(dir, '.lock'), '{"pid": "half-writ');
    const lock = await acquireRunLock(dir);
    expect(readJson(path.join(dir, '.lock'))).toMatchObject({ pid: process.pid, token: lock.token });
    await lock.release();
  });

  it('respects a live process, and presumes a holder on another host alive', async () => {
    const dir = runFolder();
    const child = liveProcess();
    writeLockFile(dir, child.pid);
    const error = await rejectionOf(acquireRunLock(dir), RunLockedError);
    expect(error.message).toContain(`locked by process ${child.pid} on ${os.hostname()}`);
    expect((await liveLockHolder(dir))?.pid).toBe(child.pid);

    const elsewhere = await deadPid();
    writeLockFile(dir, elsewhere, 'another-machine.example');
    const remote = await rejectionOf(acquireRunLock(dir), RunLockedError);
    expect(remote.holder).toMatchObject({ pid: elsewhere, host: 'another-machine.example' });
    expect(remote.message).toContain(`locked by process ${elsewhere} on another-machine.example`);
  });

  it('release does not remove a lock that another holder has since taken', async () => {
    const dir = runFolder();
    const lock = await acquireRunLock(dir);
    const child = liveProcess();
    writeLockFile(dir, child.pid);
    await lock.release();
    expect(readJson(path.join(dir, '.lock'))).toMatchObject({ pid: child.pid });
  });
});

describe('run writers', () => {
  it('a second writer on the same run is refused while the first lives, and allowed after it closes', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const first = await store.createRun('r1', { parent: null, config: {} });
    const error = await rejectionOf(store.openRunWriter('r1'), RunLockedError);
    expect(error.holder.pid).toBe(process.pid);
    expect((await liveLockHolder(store.runDir('r1')))?.pid).toBe(process.pid);
    await store.catalog.refresh();
    expect(store.catalog.getRun('r1')?.writer).toMatchObject({ pid: process.pid, host: os.hostname() });
    await first.close();
    expect(await liveLockHolder(store.runDir('r1'))).toBeNull();
    const second = await store.openRunWriter('r1');
    await second.save(trainingState(1));
    await second.close();
    expect(fs.existsSync(path.join(store.root, 'r1', '.lock'))).toBe(false);
  });

  it('opening a writer on a folder without run.json is refused', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    fs.mkdirSync(path.join(store.root, 'loose'));
    const error = await rejectionOf(RunWriter.open(store.root, 'loose'), RefusedError);
    expect(error.message).toBe(`${path.join(store.root, 'loose')}: refused: not a run (no run.json); create it first`);
  });

  it('creating a run refuses an existing name and an unsafe one', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(1));
    await writer.close();
    expect((await rejectionOf(store.createRun('r1', { parent: null, config: {} }), RefusedError)).problem).toBe(
      'a run with this name already exists; continue from it with --resume, or choose another --run',
    );
    for (const bad of ['../escape', '.hidden', 'a/b', 'a\\b', '', '..', 'new\nline', 'x'.repeat(256)]) {
      await rejectionOf(store.createRun(bad, { parent: null, config: {} }), RefusedError);
    }
    expect(names(store.root)).toEqual(['r1']);
    // Spaces and letters beyond ASCII are names like any other.
    await (await store.createRun('run é 2', { parent: null, config: {} })).close();
    expect(names(store.root)).toEqual(['r1', 'run é 2']);
  });

  it('a run that never saved (killed during start-up or before its first checkpoint) does not block a retry with the same name', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const abandoned = path.join(store.root, 'r1');
    fs.mkdirSync(abandoned);
    fs.writeFileSync(
      path.join(abandoned, 'run.json'),
      '{"formatVersion":1,"name":"r1","createdAt":"2026-01-01T00:00:00.000Z","parent":null,"config":{"old":true}}',
    );
    fs.writeFileSync(path.join(abandoned, 'retention.json'), '{"policy":{"keepLast":1}}');
    // It trained a few steps and died before its first checkpoint: its log is kept aside.
    fs.writeFileSync(path.join(abandoned, 'metrics.jsonl'), '{"kind":"train","step":1,"loss":2.3}\n');
    writeLockFile(abandoned, await deadPid());
    const writer = await store.createRun('r1', { parent: null, config: { fresh: true } });
    expect(JSON.parse(fs.readFileSync(path.join(abandoned, 'run.json'), 'utf8')).config).toEqual({ fresh: true });
    const kept = names(abandoned).filter((n) => n.startsWith('metrics-unsaved-'));
    expect(kept).toHaveLength(1);
    expect(fs.readFileSync(path.join(abandoned, kept[0] as string), 'utf8')).toContain('"step":1');
    expect(names(abandoned).filter((n) => !n.startsWith('metrics-unsaved-'))).toEqual(['.lock', 'run.json']);
    // A live start holds the lock: a second one is refused, naming it.
    await rejectionOf(store.createRun('r1', { parent: null, config: {} }), RunLockedError);
    await writer.close();
    // A user's file in it makes it a folder of theirs, not an abandoned start.
    fs.writeFileSync(path.join(abandoned, 'notes.txt'), 'mine');
    await rejectionOf(store.createRun('r1', { parent: null, config: {} }), RefusedError);
    expect(fs.readFileSync(path.join(abandoned, 'notes.txt'), 'utf8')).toBe('mine');
  });
});

describe('bulk delete and the lock', () => {
  it('refuses to delete from a run locked by another live process, and allows it once that process is gone', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(100));
    await writer.save(trainingState(200));
    await writer.close();
    await store.catalog.refresh();
    const runDir = path.join(store.root, 'r1');

    const child = liveProcess();
    writeLockFile(runDir, child.pid);
    const before = snapshotTree(runDir);
    const error = await rejectionOf(store.delete(['r1/ckpt-000000100', 'r1/ckpt-000000200']), RefusedError);
    expect(error.message).toBe(
      `${path.join(runDir, 'ckpt-000000100')}: refused: run "r1" is being written by process ${child.pid} on ${os.hostname()}; stop it first`,
    );
    expect(snapshotTree(runDir)).toEqual(before);
    expect(await store.listTrash()).toEqual([]);

    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill();
    await exited;
    const moved = await store.delete(['r1/ckpt-000000100']);
    expect(moved.map((e) => e.checkpointId)).toEqual(['r1/ckpt-000000100']);
  });

  it("refuses our own writer's run unless the caller presents the lock token", async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(100));
    await writer.save(trainingState(200));
    await store.catalog.refresh();
    const error = await rejectionOf(store.delete(['r1/ckpt-000000100']), RefusedError);
    expect(error.problem).toBe(`run "r1" is being written by process ${process.pid} on ${os.hostname()}; stop it first`);
    const moved = await store.delete(['r1/ckpt-000000100'], { lockToken: writer.lock.token });
    expect(moved.map((e) => e.checkpointId)).toEqual(['r1/ckpt-000000100']);
    await writer.close();
  });
});
