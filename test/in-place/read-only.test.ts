// A read-only folder (issue 16): browsed, verified and exported from, never changed. These tests run
// as root, which permission bits do not stop, so the read-only mount is injected into node:fs/promises
// instead (as test/base/path-state.test.ts injects its errors): under a folder marked read-only,
// `access(W_OK)` and every call that would write fail with EROFS, as they do on a read-only mount.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { useTempWorkspaces } from '../store/helpers.js';
import { failureOf, folderRecord, openStudio, scratchFolder, tutorialFolder } from './in-place-helpers.js';

/** Real paths of the folders that behave as a read-only mount. */
const readOnly = vi.hoisted(() => new Set<string>());

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const { constants } = await import('node:fs');
  const under = (target: unknown): boolean => [...readOnly].some((root) => String(target) === root || String(target).startsWith(`${root}/`));
  const refused = (syscall: string, target: unknown): Promise<never> =>
    Promise.reject(Object.assign(new Error(`EROFS: read-only file system, ${syscall} '${String(target)}'`), { code: 'EROFS', syscall, path: String(target) }));
  const writing =
    <A extends unknown[], R>(syscall: string, call: (target: never, ...rest: A) => Promise<R>) =>
    (target: never, ...rest: A): Promise<R> =>
      under(target) ? refused(syscall, target) : call(target, ...rest);
  const access = (target: never, mode?: number): Promise<void> =>
    under(target) && mode !== undefined && (mode & constants.W_OK) !== 0 ? refused('access', target) : real.access(target, mode);
  const writeBits = constants.O_WRONLY | constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND;
  const writes = (flags: string | number | undefined): boolean => (typeof flags === 'string' ? /[wa+]/.test(flags) : ((flags ?? 0) & writeBits) !== 0);
  const open = (target: never, flags?: string | number, mode?: number): ReturnType<typeof real.open> =>
    under(target) && writes(flags) ? refused('open', target) : real.open(target, flags, mode);
  const replaced = {
    access,
    open,
    mkdir: writing('mkdir', real.mkdir),
    rename: writing('rename', real.rename),
    unlink: writing('unlink', real.unlink),
    rm: writing('rm', real.rm),
    link: writing('link', real.link),
    writeFile: writing('writeFile', real.writeFile),
    appendFile: writing('appendFile', real.appendFile),
    copyFile: writing('copyFile', real.copyFile),
    utimes: writing('utimes', real.utimes),
    rmdir: writing('rmdir', real.rmdir),
  };
  return { ...real, ...replaced, default: { ...real, ...replaced } };
});

useTempWorkspaces();

describe('a read-only folder opened in place', () => {
  it('is browsed, verified (the cache not kept: a warning) and exported from', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const before = folderRecord(root);
    readOnly.add(fs.realpathSync(root));
    try {
      const { api } = await openStudio(root);
      expect((await api.listCheckpoints()).map((c) => c.id)).toHaveLength(10);
      expect((await api.latest()).id).toBe('model-10000');
      const { results, warnings } = await api.verify({ targets: ['model-10000', 'model-5000'] });
      expect(results.map((r) => r.ok)).toEqual([true, true]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`the results were not remembered for next time: ${path.join(fs.realpathSync(root), '.studio', 'verified.json')}`);
      const out = path.join(scratchFolder().base, 'exported');
      expect((await api.exportCheckpoint({ target: 'model-10000', format: 'tf', out })).files.length).toBeGreaterThan(0);
      expect(fs.readdirSync(out).length).toBeGreaterThan(0);
    } finally {
      readOnly.clear();
    }
    expect(folderRecord(root)).toEqual(before);
  });

  it('refuses every change, naming the folder and saying it is read-only; nothing is changed', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const real = fs.realpathSync(root);
    const before = folderRecord(root);
    readOnly.add(real);
    try {
      const { api } = await openStudio(root, { quietSeconds: 0 });
      const readOnlyRefusal = `${real}: refused: read-only here: its checkpoints can be listed, verified, exported and continued from, but nothing in it is changed`;
      const removal = await failureOf(api.deleteCheckpoints({ targets: ['model-5000'] }));
      expect([removal.code, removal.message]).toEqual(['refused', readOnlyRefusal]);
      const latest = await failureOf(api.makeLatest({ target: 'model-5000' }));
      expect([latest.code, latest.message]).toEqual(['refused', readOnlyRefusal]);
      const plans = await api.planRetention({ run: '.', policy: { keepLast: 2 } });
      expect(plans[0]?.delete).toHaveLength(8);
      const pruning = await failureOf(api.applyRetention({ plans }));
      expect([pruning.code, pruning.message]).toEqual(['refused', readOnlyRefusal]);
      // Pins and policies are kept in the workspace's .studio/, which cannot be made here.
      const pin = await failureOf(api.pin({ ids: ['model-5000'] }));
      expect([pin.code, pin.message]).toEqual(['refused', readOnlyRefusal]);
      const policy = await failureOf(api.setRetentionPolicy({ run: '.', policy: { keepLast: 2 } }));
      expect([policy.code, policy.message]).toEqual(['refused', readOnlyRefusal]);
      expect((await api.listCheckpoints()).map((c) => c.id)).toHaveLength(10);
    } finally {
      readOnly.clear();
    }
    expect(folderRecord(root)).toEqual(before);
  });
});
