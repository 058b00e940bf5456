import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { prepareWorkspace } from '../../electron/core/checkpoint/workspace.js';
import { deadPid, liveProcess, names, trainingState, useTempWorkspaces, writeLockFile } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

function leftoverCheckpoint(runDir: string, pid: number): string {
  const tmp = path.join(runDir, `.tmp-ckpt-000000500-${pid}-deadbeef`);
  fs.mkdirSync(tmp);
  fs.writeFileSync(path.join(tmp, 'model.safetensors'), Buffer.alloc(100));
  return tmp;
}

describe('opening a workspace', () => {
  it('creates a missing folder and reports its real path', async () => {
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

  it('removes a .tmp-* folder left by a dead writer, and stale lock leftovers, keeping everything else', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('r1', { parent: null, config: {} });
    await writer.save(trainingState(100));
    await writer.close();
    const runDir = path.join(store.root, 'r1');
    const pid = await deadPid();
    const tmp = leftoverCheckpoint(runDir, pid);
    const tmpFile = path.join(runDir, `.tmp-retention.json-${pid}-0000aaaa`);
    fs.writeFileSync(tmpFile, '{');
    const staleAside = path.join(runDir, '.lock.stale-1234abcd');
    fs.writeFileSync(staleAside, '{}');
    fs.mkdirSync(path.join(store.root, '.studio'), { recursive: true });
    const tmpState = path.join(store.root, '.studio', `.tmp-verified.json-${pid}-0000bbbb`);
    fs.writeFileSync(tmpState, '{}');
    const tmpRoot = path.join(store.root, `.tmp-import-${pid}-0000cccc`);
    fs.mkdirSync(tmpRoot);
    writeLockFile(runDir, pid);

    const reopened = await CheckpointStore.open(root);
    expect([...reopened.opened.removed].sort()).toEqual([tmp, tmpFile, staleAside, tmpState, tmpRoot].sort());
    expect(names(runDir)).toEqual(['.lock', 'ckpt-000000100', 'run.json']);
    expect(names(path.join(store.root, '.studio'))).toEqual([]);
    expect(reopened.catalog.list().map((c) => c.id)).toEqual(['r1/ckpt-000000100']);
  });

  it('keeps a .tmp-* folder in a run whose writer is alive (our own lock, or another live process)', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const ours = await store.createRun('mine', { parent: null, config: {} });
    const mineTmp = leftoverCheckpoint(path.join(store.root, 'mine'), process.pid);
    const theirsWriter = await store.createRun('theirs', { parent: null, config: {} });
    await theirsWriter.close();
    const child = liveProcess();
    writeLockFile(path.join(store.root, 'theirs'), child.pid);
    const theirsTmp = leftoverCheckpoint(path.join(store.root, 'theirs'), child.pid);
    const deadRun = await store.createRun('crashed', { parent: null, config: {} });
    await deadRun.close();
    const deadTmp = leftoverCheckpoint(path.join(store.root, 'crashed'), await deadPid());

    const reopened = await CheckpointStore.open(root);
    expect(reopened.opened.removed).toEqual([deadTmp]);
    expect(fs.existsSync(mineTmp)).toBe(true);
    expect(fs.existsSync(theirsTmp)).toBe(true);
    expect(fs.existsSync(deadTmp)).toBe(false);
    // In flight is never listed.
    expect(reopened.catalog.list()).toEqual([]);

    // Once our writer is gone, the next open clears its debris.
    await ours.close();
    const later = await CheckpointStore.open(root);
    expect(later.opened.removed).toEqual([mineTmp]);
    expect(fs.existsSync(theirsTmp)).toBe(true);
  });
});
