// A weights group's shard files, read as the one byte sequence tfjs makes of them (their
// concatenation in `paths` order). Paths come from a downloaded model.json, so each must name a
// regular file inside the model's folder: no absolute paths, no `..`, no symbolic links on the
// way (a link could lead anywhere, and import copies what it names).
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { quoted } from '../../base/describe-value.js';
import { CheckpointFormatError } from '../../base/errors.js';
import { describeFileKind, isMissing } from '../../base/regular-file.js';
import { isStoragePath, openFile, statFile } from '../../storage/file-access.js';
import type { RandomAccessFile } from '../../storage/storage.js';

export interface ShardFile {
  /** Relative to model.json's folder, `/`-separated, without `./` parts. */
  readonly name: string;
  readonly absolute: string;
  readonly bytes: number;
}

/** Checks that `name` is a plain relative path; returns its parts (`./` dropped: tfjs's browser downloads write `./model.weights.bin`). */
export function shardPathParts(indexFile: string, name: string): string[] {
  const problem = (why: string): CheckpointFormatError => new CheckpointFormatError(indexFile, `weight file path ${quoted(name)} ${why}`);
  if (name === '') throw problem('is empty');
  if (name.includes('\\') || name.includes('\0')) throw problem('holds a backslash or NUL; only plain names inside the model folder are read');
  if (path.posix.isAbsolute(name) || path.win32.isAbsolute(name) || /^[a-z][a-z0-9+.-]*:/i.test(name)) {
    throw problem('is absolute or a URL; only names inside the model folder are read');
  }
  const parts = name.split('/').filter((part) => part !== '.');
  if (parts.length === 0 || parts.some((part) => part === '' || part === '..')) throw problem('steps outside the model folder or holds an empty part');
  return parts;
}

/** Resolves and checks one shard path: every component a real folder or file, none a link. */
export async function statShard(indexFile: string, dir: string, name: string): Promise<ShardFile> {
  const parts = shardPathParts(indexFile, name);
  // An object store has no links and no folders of its own: the shard is the key under the model's prefix.
  if (isStoragePath(dir)) {
    const absolute = path.join(dir, ...parts);
    const found = await statFile(absolute);
    if (found === null) throw new CheckpointFormatError(indexFile, `weight file ${quoted(name)} is missing`);
    if (found.kind !== 'file')
      throw new CheckpointFormatError(indexFile, `weight file ${quoted(name)}: ${absolute} is ${found.description}, not a regular file`);
    return { name: parts.join('/'), absolute, bytes: found.bytes };
  }
  let current = dir;
  let size = 0;
  for (const [i, part] of parts.entries()) {
    current = path.join(current, part);
    let info;
    try {
      info = await lstat(current);
    } catch (error) {
      if (isMissing(error)) throw new CheckpointFormatError(indexFile, `weight file ${quoted(name)} is missing`);
      // The path is made of model.json's text: the file system's own message, which quotes it, is not passed on.
      throw new CheckpointFormatError(
        indexFile,
        `weight file ${quoted(name)} cannot be read (${(error as NodeJS.ErrnoException | null)?.code ?? 'an unknown error'})`,
      );
    }
    const last = i === parts.length - 1;
    if (last ? !info.isFile() : !info.isDirectory()) {
      throw new CheckpointFormatError(
        indexFile,
        `weight file ${quoted(name)}: ${current} is ${describeFileKind(info)}, not a regular ${last ? 'file' : 'folder'}`,
      );
    }
    size = info.size;
  }
  return { name: parts.join('/'), absolute: current, bytes: size };
}

/** Reads byte ranges of a concatenation of files, opening each once and closing all at the end. */
export class ConcatenatedFiles {
  private readonly handles = new Map<number, RandomAccessFile>();
  private readonly starts: number[] = [];
  readonly total: number;

  constructor(private readonly files: readonly ShardFile[]) {
    let start = 0;
    for (const file of files) {
      this.starts.push(start);
      start += file.bytes;
    }
    this.total = start;
  }

  /** The file a group offset falls in, and the offset inside it. */
  locate(offset: number): { index: number; file: ShardFile; offset: number } {
    let index = 0;
    while (index + 1 < this.files.length && (this.starts[index + 1] as number) <= offset) index += 1;
    return { index, file: this.files[index] as ShardFile, offset: offset - (this.starts[index] as number) };
  }

  /** `length` bytes at group offset `offset`; throws naming the file where the bytes run out. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { index, file, offset: inFile } = this.locate(offset + done);
      const want = Math.min(length - done, file.bytes - inFile);
      if (want <= 0) throw new CheckpointFormatError(file.absolute, `ends at byte ${file.bytes}, before the weights it should hold`, file.bytes);
      const handle = await this.handle(index);
      const { bytesRead } = await handle.read(out, done, want, inFile);
      if (bytesRead !== want)
        throw new CheckpointFormatError(file.absolute, `is shorter than the ${file.bytes} bytes it had when it was opened`, inFile + bytesRead);
      done += want;
    }
    return out;
  }

  private async handle(index: number): Promise<RandomAccessFile> {
    const open = this.handles.get(index);
    if (open) return open;
    const file = this.files[index] as ShardFile;
    const { file: handle } = await openFile(file.absolute, { sequential: true });
    this.handles.set(index, handle);
    return handle;
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map((h) => h.close()));
  }
}
