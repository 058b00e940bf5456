// The readers' one file access (storage/file-access.ts): a path under a mounted store is read from
// it, in either spelling path.join leaves (`s3:/` or `s3://`); one address opened twice reads through
// the newer storage until it too is closed; an address no open workspace holds is refused, naming it.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles, mountStorage, openFile, readText, statFile } from '../../electron/core/storage/file-access.js';
import type { Storage, StoredObject } from '../../electron/core/storage/storage.js';

/** A store holding `files` (key → text) at `address`: only what the file access asks of one. */
function memoryStorage(address: string, files: Record<string, string>): Storage {
  const object = (key: string): StoredObject | null =>
    files[key] === undefined ? null : { key, size: Buffer.byteLength(files[key] ?? ''), modifiedMs: 1000, tag: null };
  const bytes = (key: string): Uint8Array => Buffer.from(files[key] ?? '');
  const unused = (): never => {
    throw new Error('not used by the file access');
  };
  return {
    address,
    locate: (key) => `${address}${key}`,
    clock: () => 0,
    list: unused,
    children: async (prefix) => {
      const under = Object.keys(files).filter((k) => k.startsWith(prefix));
      const objects = under.filter((k) => !k.slice(prefix.length).includes('/')).map((k) => object(k) as StoredObject);
      const folders = [...new Set(under.filter((k) => k.slice(prefix.length).includes('/')).map((k) => `${prefix}${k.slice(prefix.length).split('/')[0]}/`))];
      return { objects, folders };
    },
    stat: async (key) => object(key),
    read: async (key, range) => bytes(key).subarray(range?.start ?? 0, range?.end),
    open: async (key) => {
      const found = object(key);
      if (found === null) return null;
      const all = bytes(key);
      return {
        size: found.size,
        file: {
          read: async (buffer, offset, length, position) => {
            const part = all.subarray(position, position + length);
            buffer.set(part, offset);
            return { bytesRead: part.length };
          },
          close: async () => undefined,
        },
      };
    },
    stream: unused,
    write: unused,
    upload: unused,
    copy: unused,
    remove: unused,
  };
}

describe('the readers’ file access', () => {
  it('reads a mounted store by address, in both spellings, and lists its folders', async () => {
    const unmount = mountStorage(memoryStorage('s3://bucket/ws/', { 'run/checkpoint': 'hello', 'run/sub/a.bin': 'xy' }));
    try {
      const dir = path.join('s3://bucket/ws', 'run');
      expect(dir).toBe('s3:/bucket/ws/run');
      expect(await readText(path.join(dir, 'checkpoint'), 100)).toBe('hello');
      expect(await statFile(dir)).toMatchObject({ kind: 'folder' });
      expect(await statFile('s3://bucket/ws/run/checkpoint')).toMatchObject({ kind: 'file', bytes: 5 });
      expect(await statFile('s3://bucket/ws/run/none')).toBeNull();
      expect((await listFiles(dir)).map((e) => [e.name, e.kind])).toEqual([
        ['checkpoint', 'file'],
        ['sub', 'folder'],
      ]);
      await expect(openFile(path.join(dir, 'gone'))).rejects.toMatchObject({
        code: 'ENOENT',
        message: expect.stringContaining('s3://bucket/ws/run/gone') as string,
      });
    } finally {
      unmount();
    }
  });

  it('one address opened twice reads through the newer storage; closed, it is refused by name', async () => {
    const first = mountStorage(memoryStorage('s3://bucket/ws/', { f: 'first' }));
    const second = mountStorage(memoryStorage('s3://bucket/ws/', { f: 'second' }));
    expect(await readText('s3://bucket/ws/f', 100)).toBe('second');
    // The first workspace closes (its client goes) after the second opened: reads keep going through the second.
    first();
    expect(await readText('s3:/bucket/ws/f', 100)).toBe('second');
    second();
    await expect(readText('s3://bucket/ws/f', 100)).rejects.toThrow('s3://bucket/ws/f: is in an object store that no open workspace reads');
  });
});
