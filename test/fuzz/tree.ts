// File-system helpers for the fuzz harness. They never follow a symbolic link and never open
// anything but a regular file: the harness walks the very trees it has booby-trapped with FIFOs,
// link loops and links out of the workspace, and must neither hang nor reach outside its folder.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** One entry of a tree, as a comparable string. */
export type EntryState = string;

function kindOf(info: fs.BigIntStats | fs.Stats): string {
  if (info.isSymbolicLink()) return 'link';
  if (info.isDirectory()) return 'dir';
  if (info.isFile()) return 'file';
  if (info.isFIFO()) return 'fifo';
  return 'special';
}

/**
 * Any write, truncation, chmod, rename or replacement of an entry changes its inode or its ctime,
 * and nothing but a clock change can set a ctime back: comparing these is as strict as comparing
 * bytes, without reading any. A folder's ctime changes whenever an entry comes or goes, which the
 * entries themselves already show, so folders are compared by identity and permissions only.
 */
function quickState(info: fs.BigIntStats): EntryState {
  const kind = kindOf(info);
  const mode = (info.mode & 0o7777n).toString(8);
  return kind === 'dir' ? `dir ${mode} ${info.ino}` : `${kind} ${mode} ${info.size} ${info.ino} ${info.ctimeNs}`;
}

/** Kind, permissions, size, mtime (the verification cache keys on it) and bytes: what a case can depend on. */
function exactEntry(full: string): EntryState | null {
  let info: fs.Stats;
  try {
    info = fs.lstatSync(full);
  } catch {
    return null;
  }
  const kind = kindOf(info);
  const mode = (info.mode & 0o7777).toString(8);
  if (kind === 'link') return `link -> ${fs.readlinkSync(full)}`;
  if (kind !== 'file') return `${kind} ${mode}`;
  let digest: string;
  try {
    digest = createHash('sha1').update(fs.readFileSync(full)).digest('hex');
  } catch (error) {
    digest = `unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  return `file ${mode} ${info.size} ${info.mtimeMs} ${digest}`;
}

/** Every entry under `root` (relative paths with `/`), depth first, parents before children. */
function walk(root: string, state: (full: string) => EntryState | null): Map<string, EntryState> {
  const out = new Map<string, EntryState>();
  const visit = (dir: string, prefix: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if (prefix !== '')
        out.set(prefix.slice(0, -1), `${out.get(prefix.slice(0, -1)) ?? 'dir'} (unlistable: ${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const rel = `${prefix}${entry.name}`;
      const described = state(full);
      if (described === null) continue; // Gone between readdir and lstat.
      out.set(rel, described);
      if (entry.isDirectory()) visit(full, `${rel}/`);
    }
  };
  visit(root, '');
  return out;
}

/** The cheap snapshot taken after every command (see quickState). */
export function snapshotTree(root: string): Map<string, EntryState> {
  return walk(root, (full) => {
    try {
      return quickState(fs.lstatSync(full, { bigint: true }));
    } catch {
      return null;
    }
  });
}

/** The full description of a tree, bytes included (see exactEntry). */
export function exactTree(root: string): Map<string, EntryState> {
  return walk(root, exactEntry);
}

/** The exact state of one entry, for a byte-for-byte check of a canary. */
export function exactStateOf(root: string, rel: string): EntryState | null {
  return exactEntry(path.join(root, rel));
}

export interface TreeChange {
  readonly path: string;
  readonly before: EntryState | undefined;
  readonly after: EntryState | undefined;
}

export function diffTrees(before: ReadonlyMap<string, EntryState>, after: ReadonlyMap<string, EntryState>): TreeChange[] {
  const changes: TreeChange[] = [];
  for (const [p, state] of before) if (after.get(p) !== state) changes.push({ path: p, before: state, after: after.get(p) });
  for (const [p, state] of after) if (!before.has(p)) changes.push({ path: p, before: undefined, after: state });
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function describeChange(change: TreeChange): string {
  const kind = (state: EntryState): string => state.split(' ')[0] ?? state;
  if (change.after === undefined) return `${change.path}: deleted`;
  if (change.before === undefined) return `${change.path}: created (${kind(change.after)})`;
  return kind(change.before) === kind(change.after) ? `${change.path}: modified` : `${change.path}: ${kind(change.before)} replaced by ${kind(change.after)}`;
}

const TEMPLATE_FOLDERS = new Set(['alpha', 'beta', '.trash', '.studio']);

/** A case-relative path with what varies from case to case (steps, trash entry names, outside paths, made-up run names) masked, for grouping. */
export function pathShape(rel: string): string {
  return rel
    .replace(/^ws\/([^/]+)(?=\/)/, (whole, folder: string) => (TEMPLATE_FOLDERS.has(folder) ? whole : 'ws/<other run>'))
    .replace(/ckpt-\d+/g, 'ckpt-N')
    .replace(/^ws\/\.trash\/[^/]+/, 'ws/.trash/<entry>')
    .replace(/^outside\/.+/, 'outside/…');
}

/** FIFOs under `root`, found without following links (so never through a link out of the case). */
export function findFifos(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isFIFO()) found.push(full);
      else if (entry.isDirectory()) visit(full);
    }
  };
  visit(root);
  return found;
}

/**
 * Unblocks whoever has opened `fifo` and is waiting on it, and says whether anyone was.
 *
 * A non-blocking open for writing succeeds only if the FIFO has a reader (a blocked open() counts):
 * closing it at once hands that reader an end of file. A non-blocking open for reading always
 * succeeds and releases a writer blocked in open(); a read then tells a writer is there (EAGAIN)
 * from no writer at all (0 bytes).
 */
export function feedFifo(fifo: string): 'reader' | 'writer' | null {
  const { O_WRONLY, O_RDONLY, O_NONBLOCK, O_NOFOLLOW } = fs.constants;
  try {
    const fd = fs.openSync(fifo, O_WRONLY | O_NONBLOCK | O_NOFOLLOW);
    fs.closeSync(fd);
    return 'reader';
  } catch {
    // ENXIO: nobody is reading. Anything else: not ours to worry about here.
  }
  let fd: number;
  try {
    fd = fs.openSync(fifo, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    fs.readSync(fd, Buffer.alloc(1), 0, 1, null);
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EAGAIN' ? 'writer' : null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Whether process `pid` holds `fifo` open without blocking (O_NONBLOCK): the product's own way of
 * opening a file to look at its kind. Such a reader is briefly visible to feedFifo, but it waits
 * for nothing; a process stuck in a blocking open() has no descriptor for the FIFO yet, and one
 * that opened it blocking lacks the flag. Linux only (/proc); elsewhere nothing is excused.
 */
export function holdsWithoutBlocking(pid: number, fifo: string): boolean {
  const O_NONBLOCK = fs.constants.O_NONBLOCK;
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  let real = fifo;
  try {
    real = fs.realpathSync(fifo);
  } catch {
    // Gone already: compare with the path as given.
  }
  for (const fd of fds) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target !== fifo && target !== real) continue;
      const flags = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & O_NONBLOCK) !== 0) return true;
    } catch {
      // The descriptor closed while being looked at: nothing held.
    }
  }
  return false;
}

/** Makes every folder under `root` enterable and writable again (a corruption may have chmod-ed one to 000). */
function restorePermissions(root: string): void {
  const visit = (dir: string): void => {
    try {
      fs.chmodSync(dir, 0o700);
    } catch {
      return;
    }
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) if (entry.isDirectory()) visit(path.join(dir, entry.name));
  };
  visit(root);
}

/** rm -rf that also copes with folders left unreadable; never follows links (fs.rm does not). */
export function forceRemove(target: string): void {
  try {
    fs.rmSync(target, { recursive: true, force: true });
    return;
  } catch {
    restorePermissions(target);
  }
  fs.rmSync(target, { recursive: true, force: true });
}

/** Copies one entry of the template (a folder without its content), keeping permissions and mtime. */
function copyEntry(from: string, to: string): void {
  const info = fs.lstatSync(from);
  if (info.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
  else if (info.isDirectory()) fs.mkdirSync(to, { mode: info.mode & 0o7777 });
  else if (!info.isFile()) throw new Error(`${from}: the template holds only files, folders and links`);
  else {
    fs.copyFileSync(from, to);
    fs.chmodSync(to, info.mode & 0o7777);
    fs.utimesSync(to, info.atime, info.mtime);
  }
}

function copyTree(from: string, to: string): void {
  copyEntry(from, to);
  if (!fs.lstatSync(from).isDirectory()) return;
  for (const name of fs.readdirSync(from)) copyTree(path.join(from, name), path.join(to, name));
}

function sameMaps(a: ReadonlyMap<string, EntryState>, b: ReadonlyMap<string, EntryState>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

/**
 * A folder made identical to the template before every case. On this project's disks creating and
 * unlinking a file costs most of a millisecond, and a case changes a handful of a workspace's
 * seventy-odd entries, so a reset redoes only what changed since the last one (by quickState) and
 * checks the entries it copied against the template byte for byte. Anything unexpected, and the
 * folder is rebuilt from scratch and checked whole.
 */
export class CaseFolder {
  /** quickState of every entry right after the last reset. */
  private pristine: Map<string, EntryState> | null = null;
  private readonly expected: ReadonlyMap<string, EntryState>;

  constructor(
    readonly dir: string,
    private readonly template: string,
  ) {
    this.expected = exactTree(template);
  }

  /** The template's exact state of `rel` (see exactEntry), or undefined when the template has no such entry. */
  expectedState(rel: string): EntryState | undefined {
    return this.expected.get(rel);
  }

  /** Returns false only if even a rebuild from scratch did not reproduce the template. */
  reset(): boolean {
    const reset = this.pristine === null ? null : this.resetChanged(this.pristine);
    if (reset !== null) {
      this.pristine = reset;
      return true;
    }
    forceRemove(this.dir);
    copyTree(this.template, this.dir);
    const ok = sameMaps(exactTree(this.dir), this.expected);
    this.pristine = ok ? snapshotTree(this.dir) : null;
    return ok;
  }

  /** Redoes what changed since `pristine`; returns the new pristine snapshot, or null if a rebuild is needed. */
  private resetChanged(pristine: ReadonlyMap<string, EntryState>): Map<string, EntryState> | null {
    if (!fs.existsSync(this.dir)) return null;
    let removed: string | null = null;
    for (const [rel, state] of snapshotTree(this.dir)) {
      if (removed !== null && rel.startsWith(`${removed}/`)) continue;
      if (pristine.get(rel) === state) continue;
      forceRemove(path.join(this.dir, rel));
      removed = rel;
    }
    const copied: string[] = [];
    for (const rel of this.expected.keys()) {
      const target = path.join(this.dir, rel);
      if (fs.lstatSync(target, { throwIfNoEntry: false }) !== undefined) continue;
      copyEntry(path.join(this.template, rel), target);
      copied.push(rel);
    }
    if (!copied.every((rel) => exactStateOf(this.dir, rel) === this.expected.get(rel))) return null;
    // Nothing but the template's entries is left, and the untouched ones are still what was checked.
    const now = snapshotTree(this.dir);
    return now.size === this.expected.size && [...now.keys()].every((rel) => this.expected.has(rel)) ? now : null;
  }
}
