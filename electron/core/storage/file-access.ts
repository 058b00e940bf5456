// The one way the readers of other programs' files (formats/, layouts/) get at bytes, wherever
// the files lie: a path on disk is opened as a regular file (base/regular-file.ts); a path under a
// workspace in S3 that is open (mounted here by the store that opened it) is read from its
// storage by ranged GETs. Readers keep joining paths as they always did: `path.join` turns
// `s3://bucket/x` into `s3:/bucket/x`, and both spellings are read here as the same address.
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeFileKind, isMissing, openRegular } from '../base/regular-file.js';
import { CheckpointFormatError } from '../base/errors.js';
import type { RandomAccessFile, Storage } from './storage.js';

export interface FileEntry {
  readonly name: string;
  readonly kind: 'file' | 'folder' | 'other';
  readonly bytes: number;
  readonly mtimeMs: number;
  /** What it is, for messages: 'a regular file', 'a folder', 'a named pipe (FIFO)', … */
  readonly description: string;
}

export interface OpenedFile {
  readonly file: RandomAccessFile;
  readonly size: number;
  /** Tells this file from another that later takes its name (disk: device and inode; S3: the key, as objects grow by being rewritten whole). */
  readonly identity: string;
}

interface Mount {
  /** The storage's address without its last '/': `s3://bucket/prefix`. */
  readonly root: string;
  /** Every storage mounted there and not yet unmounted, newest last: reads go through the newest (an older one may be closing). */
  readonly storages: Storage[];
}

const mounts = new Map<string, Mount>();
const FILE = 'a regular file';
const FOLDER = 'a folder';

/** `s3:/bucket/x` (after path.join) and `s3://bucket/x` are one address; written with two slashes. */
export function shownPath(file: string): string {
  return file.replace(/^s3:\/+/, 's3://');
}

/** A path that names an object store rather than the disk (mounted or not). */
export function isStoragePath(file: string): boolean {
  return /^s3:\//.test(file);
}

/** The mounted storage and key a path names, or null for a path on disk. Throws for an s3 address no open workspace holds. */
function mountedAt(file: string): { storage: Storage; key: string; address: string } | null {
  if (!isStoragePath(file)) return null;
  const address = shownPath(file).replace(/\/+$/, '');
  let best: Mount | null = null;
  for (const mount of mounts.values()) {
    if ((address === mount.root || address.startsWith(`${mount.root}/`)) && (best === null || mount.root.length > best.root.length)) best = mount;
  }
  const storage = best?.storages.at(-1);
  if (best === null || storage === undefined) throw new CheckpointFormatError(address, 'is in an object store that no open workspace reads');
  return { storage, key: address === best.root ? '' : address.slice(best.root.length + 1), address };
}

/**
 * Lets the readers reach `storage`'s objects by their addresses until the returned function is
 * called. One address mounted twice (a workspace opened again before the first is closed) is read
 * through the newer storage, and stays mounted until both are done.
 */
export function mountStorage(storage: Storage): () => void {
  const root = shownPath(storage.address).replace(/\/+$/, '');
  const mount = mounts.get(root) ?? { root, storages: [] };
  mount.storages.push(storage);
  mounts.set(root, mount);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const at = mount.storages.lastIndexOf(storage);
    if (at >= 0) mount.storages.splice(at, 1);
    if (mount.storages.length === 0 && mounts.get(root) === mount) mounts.delete(root);
  };
}

/** An absolute path for a path on disk; an address in an object store as it is. */
export function resolveFilePath(file: string): string {
  return isStoragePath(file) ? shownPath(file) : path.resolve(file);
}

/** What `isMissing` (base/regular-file.ts) recognises: an object that is not (or no longer) there. */
function missing(address: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${address}: no such object (listed before, and gone since, or never there)`);
  error.code = 'ENOENT';
  return error;
}

/** Reads of an S3 object by ranged GETs, each read one request: for the few small reads of an index, a footer or an event file's new bytes. */
class RangedObject implements RandomAccessFile {
  constructor(
    private readonly storage: Storage,
    private readonly key: string,
    private readonly size: number,
  ) {}

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const end = Math.min(position + length, this.size);
    if (end <= position) return { bytesRead: 0 };
    const bytes = await this.storage.read(this.key, { start: position, end });
    buffer.set(bytes.subarray(0, end - position), offset);
    return { bytesRead: Math.min(bytes.length, end - position) };
  }

  async close(): Promise<void> {}
}

/**
 * Opens a file for reads at any offset. `sequential`: the reads go front to back through most of
 * it (a bundle's data shard), so an S3 object is read as one streamed GET; otherwise by ranges.
 */
export async function openFile(file: string, options: { readonly sequential?: boolean } = {}): Promise<OpenedFile> {
  const mounted = mountedAt(file);
  if (mounted === null) {
    const { handle, stats } = await openRegular(file);
    return { file: handle, size: stats.size, identity: `${stats.dev}:${stats.ino}` };
  }
  const { storage, key, address } = mounted;
  if (options.sequential) {
    const opened = await storage.open(key);
    if (opened === null) throw missing(address);
    return { file: opened.file, size: opened.size, identity: `s3:${key}` };
  }
  const object = await storage.stat(key);
  if (object === null) throw missing(address);
  return { file: new RangedObject(storage, key, object.size), size: object.size, identity: `s3:${key}` };
}

function entryOf(info: Stats, name: string): FileEntry {
  const kind = info.isFile() ? 'file' : info.isDirectory() ? 'folder' : 'other';
  return { name, kind, bytes: kind === 'file' ? info.size : 0, mtimeMs: kind === 'file' ? info.mtimeMs : 0, description: describeFileKind(info) };
}

/** What is at a path (following links), or null when nothing is. */
export async function statFile(file: string): Promise<FileEntry | null> {
  const mounted = mountedAt(file);
  if (mounted === null) {
    try {
      return entryOf(await stat(file), path.basename(file));
    } catch (error) {
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw error;
    }
  }
  const { storage, key } = mounted;
  const name = key.split('/').pop() ?? '';
  if (key === '') return { name, kind: 'folder', bytes: 0, mtimeMs: 0, description: FOLDER };
  const object = await storage.stat(key);
  if (object !== null) return { name, kind: 'file', bytes: object.size, mtimeMs: object.modifiedMs, description: FILE };
  const below = await storage.children(`${key}/`);
  return below.objects.length > 0 || below.folders.length > 0 ? { name, kind: 'folder', bytes: 0, mtimeMs: 0, description: FOLDER } : null;
}

/** A folder's entries (links to files read as files); an empty list when there is no such folder. */
export async function listFiles(dir: string): Promise<FileEntry[]> {
  const mounted = mountedAt(dir);
  if (mounted === null) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw error;
    }
    const entries = await Promise.all(
      names.map(
        async (name) => (await statFile(path.join(dir, name))) ?? { name, kind: 'other' as const, bytes: 0, mtimeMs: 0, description: 'gone or unreadable' },
      ),
    );
    return entries.map((e, i) => ({ ...e, name: names[i] ?? e.name }));
  }
  const { storage, key } = mounted;
  const prefix = key === '' ? '' : `${key}/`;
  const { objects, folders } = await storage.children(prefix);
  return [
    ...objects.map((o) => ({ name: o.key.slice(prefix.length), kind: 'file' as const, bytes: o.size, mtimeMs: o.modifiedMs, description: FILE })),
    ...folders.map((f) => ({ name: f.slice(prefix.length).replace(/\/$/, ''), kind: 'folder' as const, bytes: 0, mtimeMs: 0, description: FOLDER })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A whole file, refused when larger than `maxBytes` (`limitOf` ends that sentence: "more than the 1024 {such a file can be}"). */
export async function readWhole(file: string, maxBytes: number, limitOf = 'such a file can be'): Promise<Uint8Array> {
  const opened = await openFile(file);
  try {
    if (opened.size > maxBytes) throw new CheckpointFormatError(shownPath(file), `is ${opened.size} bytes, more than the ${maxBytes} ${limitOf}`);
    const bytes = Buffer.allocUnsafe(opened.size);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await opened.file.read(bytes, done, bytes.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return bytes.subarray(0, done);
  } finally {
    await opened.file.close();
  }
}

/** A whole small text file. */
export async function readText(file: string, maxBytes: number): Promise<string> {
  return Buffer.from(await readWhole(file, maxBytes)).toString('utf8');
}
