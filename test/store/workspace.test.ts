import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../electron/core/base/errors.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { temporaryName } from '../../electron/core/base/temporaries.js';
import { prepareWorkspace } from '../../electron/core/checkpoint/workspace.js';
import { deadPid, liveProcess, names, rejectionOf, snapshotTree, trainingState, useTempWorkspaces, writeLockFile } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

function leftoverCheckpoint(runDir: string, pid: number): string {
  const tmp = path.join(runDir, temporaryName('ckpt-000000500', pid));
  fs.mkdirSync(tmp);
  fs.writeFileSync(path.join(tmp, 'model.safetensors'), Buffer.alloc(100));
  return tmp;
}

async function workspaceWithRun(root: string): Promise<{ store: CheckpointStore; runDir: string }> {
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('r1', { parent: null, config: {} });
  await writer.save(trainingState(100));
  await writer.close();
  return { store, runDir: path.join(store.root, 'r1') };
}

describe('opening a workspace', () => {
  it('creates a missing folder to write, and reports its real path', async () => {
    const { base, root } = makeWorkspace();
    const link = path.join(base, 'via-link');
    fs.mkdirSync(root);
    fs.symlinkSync(root, link);
    const prepared = await prepareWorkspace(link);
    expect(prepared.root).toBe(fs.realpathSync(root));
    const nested = path.join(base, 'a', 'b', 'c');
    const store = await CheckpointStore.open(nested);
    expect(fs.statSync(nested).isDirectory()).toBe(true);
    expect(store.root).toBe(fs.realpathSync(nested));
    expect(store.catalog.list()).toEqual([]);
  });

  it('opened to read, a missing workspace is not found and is not created', async () => {
    const { base } = makeWorkspace();
    const missing = path.join(base, 'typo');
    const error = await rejectionOf(CheckpointStore.open(missing, { access: 'read' }), NotFoundError);
    expect(error.message).toBe(`${missing}: no such workspace folder`);
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('opened to write, removes only what dead writers of ours left, where our writers put it', async () => {
    const { root } = makeWorkspace();
    const { store, runDir } = await workspaceWithRun(root);
    const dead = await deadPid();
    const tmp = leftoverCheckpoint(runDir, dead);
    const tmpFile = path.join(runDir, temporaryName('retention.json', dead));
    fs.writeFileSync(tmpFile, '{');
    const staleAside = path.join(runDir, temporaryName('lock-stale', dead));
    fs.writeFileSync(staleAside, '{}');
    fs.mkdirSync(path.join(store.root, '.studio'), { recursive: true });
    const tmpState = path.join(store.root, '.studio', temporaryName('verified.json', dead));
    fs.writeFileSync(tmpState, '{}');
    // Not ours, or not where our writers work: a user's files that merely look like ours.
    const userFiles = [
      path.join(store.root, '.tmp-notes'),
      path.join(runDir, '.tmp-notes'),
      path.join(runDir, '.lock.stale-mine'),
      path.join(store.root, temporaryName('import', dead)),
      path.join(runDir, '.tmp-studio.not-ours'),
    ];
    for (const file of userFiles) fs.writeFileSync(file, 'mine');
    writeLockFile(runDir, dead);

    const reopened = await CheckpointStore.open(root);
    expect([...reopened.opened.removed].sort()).toEqual([tmp, tmpFile, staleAside, tmpState].sort());
    for (const file of userFiles) expect(fs.readFileSync(file, 'utf8')).toBe('mine');
    expect(names(path.join(store.root, '.studio'))).toEqual([]);
    expect(reopened.catalog.list().map((c) => c.id)).toEqual(['r1/ckpt-000000100']);
  });

  it('opened to read, removes nothing and creates nothing, even what dead writers left', async () => {
    const { root } = makeWorkspace();
    const { store, runDir } = await workspaceWithRun(root);
    leftoverCheckpoint(runDir, await deadPid());
    const before = snapshotTree(store.root);
    const reader = await CheckpointStore.open(root, { access: 'read' });
    expect(reader.opened.removed).toEqual([]);
    reader.resolve('latest');
    await reader.listTrash();
    expect(snapshotTree(store.root)).toEqual(before);
  });

  it('keeps the temporaries of live writers: ours, another live process, another machine', async () => {
    const { root } = makeWorkspace();
    const { store, runDir } = await workspaceWithRun(root);
    const mine = leftoverCheckpoint(runDir, process.pid);
    const child = liveProcess();
    const theirs = leftoverCheckpoint(runDir, child.pid);
    const otherHost = path.join(runDir, '.tmp-studio.00000000.4242.deadbeef.ckpt-000000600');
    fs.mkdirSync(otherHost);
    const deadTmp = leftoverCheckpoint(runDir, await deadPid());

    const reopened = await CheckpointStore.open(root);
    expect(reopened.opened.removed).toEqual([deadTmp]);
    for (const kept of [mine, theirs, otherHost]) expect(fs.existsSync(kept)).toBe(true);
    // In flight is never listed.
    expect(reopened.catalog.list().map((c) => c.id)).toEqual(['r1/ckpt-000000100']);
    void store;
  });
});
