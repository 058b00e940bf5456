// Existence is told apart from "cannot look": only ENOENT and ENOTDIR mean absent. Errors that
// stop even root (a loop of links, a name too long) are real; a permission refused is injected
// (these tests run as root, which permission bits do not stop) into the file system calls, and
// is shown to stop an import instead of being taken for a free name.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { exists, pathKind, statIfPresent } from '../../electron/core/base/path-state.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { sourceWorkspace, studioWith, treeHash } from '../import/import-helpers.js';

/** Paths whose lstat and stat fail with EACCES, as under a folder the user may not read. */
const denied = vi.hoisted(() => new Set<string>());

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const guarded =
    <A extends unknown[], R>(syscall: string, call: (target: fs.PathLike, ...rest: A) => Promise<R>) =>
    (target: fs.PathLike, ...rest: A): Promise<R> => {
      if (denied.has(String(target)))
        return Promise.reject(
          Object.assign(new Error(`EACCES: permission denied, ${syscall} '${String(target)}'`), { code: 'EACCES', syscall, path: String(target) }),
        );
      return call(target, ...rest);
    };
  const lstat = guarded('lstat', real.lstat as (target: fs.PathLike) => Promise<fs.Stats>);
  const stat = guarded('stat', real.stat as (target: fs.PathLike) => Promise<fs.Stats>);
  return { ...real, lstat, stat, default: { ...real, lstat, stat } };
});

const makeWorkspace = useTempWorkspaces();

function scratch(): string {
  const { base } = makeWorkspace();
  return base;
}

describe('pathKind, exists and statIfPresent', () => {
  it('say absent for a missing name and for a name under a file (ENOENT, ENOTDIR)', async () => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    expect(await pathKind(path.join(dir, 'missing'))).toBe('absent');
    expect(await exists(path.join(dir, 'file', 'below'))).toBe(false);
    expect(await statIfPresent(path.join(dir, 'file', 'below'), { follow: true })).toBeNull();
  });

  it('tell a file, a folder and a link apart, following a link only when asked', async () => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    fs.mkdirSync(path.join(dir, 'folder'));
    fs.symlinkSync('folder', path.join(dir, 'link'));
    fs.symlinkSync('nowhere', path.join(dir, 'dangling'));
    expect(await pathKind(path.join(dir, 'file'))).toBe('file');
    expect(await pathKind(path.join(dir, 'folder'))).toBe('directory');
    expect(await pathKind(path.join(dir, 'link'))).toBe('symlink');
    expect(await pathKind(path.join(dir, 'link'), { follow: true })).toBe('directory');
    // A dangling link is something (its name is taken), though what it names is not.
    expect(await exists(path.join(dir, 'dangling'))).toBe(true);
    expect(await exists(path.join(dir, 'dangling'), { follow: true })).toBe(false);
  });

  it('raise a loop of links and a name too long, naming the path, instead of saying absent', async () => {
    const dir = scratch();
    const loop = path.join(dir, 'loop');
    fs.symlinkSync('loop', loop);
    await expect(exists(path.join(loop, 'manifest.json'))).rejects.toMatchObject({ code: 'ELOOP', message: expect.stringContaining(loop) });
    await expect(pathKind(loop, { follow: true })).rejects.toMatchObject({ code: 'ELOOP' });
    await expect(exists(path.join(dir, 'n'.repeat(300)))).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
  });

  it('raise a permission refused, naming the path', async () => {
    const dir = scratch();
    const target = path.join(dir, 'private');
    denied.add(target);
    try {
      await expect(exists(target)).rejects.toMatchObject({ code: 'EACCES', message: expect.stringContaining(target) });
      await expect(statIfPresent(target, { follow: true })).rejects.toMatchObject({ code: 'EACCES' });
    } finally {
      denied.delete(target);
    }
  });
});

describe('a name that cannot be looked at is not a free name', () => {
  it('an import whose run name cannot be looked at fails, saying why, and writes nothing', async () => {
    const source = path.join(await sourceWorkspace({ alpha: [100] }), 'alpha');
    const { api, root } = await studioWith();
    const before = treeHash(root);
    denied.add(path.join(root, 'alpha'));
    try {
      const report = await api.importFolders({ sources: [source] });
      expect(report.results[0]).toMatchObject({
        ok: false,
        error: { code: 'io', message: expect.stringContaining(`EACCES: permission denied, lstat '${path.join(root, 'alpha')}'`) },
      });
    } finally {
      denied.clear();
    }
    expect(treeHash(root)).toBe(before);
  });
});
