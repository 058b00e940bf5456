// Folders and files a person hands the page (dropped, or chosen with a picker), and, in browser
// mode, how they reach the server: each file PUT to /upload/<id>/<folder>/<path> (same origin, the
// tab's token in a header), the server answering where it staged the folder, so describeSources and
// importFolders can read it. Loose files go up together into one folder of their own, so a TF.js
// model.json and its .bin shards stay side by side. The desktop app needs none of this: it
// imports the real paths.
import { tabToken } from './browser-token';
import { TOKEN_HEADER } from './contract';

/** One top-level folder and every file below it, by its path relative to the folder's parent. */
export interface PickedFolder {
  readonly name: string;
  readonly files: readonly { readonly path: string; readonly file: File }[];
  /** The folder itself as the drop gave it (the desktop app asks the host for its path). */
  readonly self: File | null;
}

/** A dropped or chosen item that is a file, not a folder (null when the browser would not read it). */
export interface PickedLoose {
  readonly name: string;
  readonly file: File | null;
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries answers in batches (100 in Chromium) until it answers with none.
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = (): void =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

const fileOf = (entry: FileSystemFileEntry): Promise<File> => new Promise((resolve, reject) => entry.file(resolve, reject));

async function walk(entry: FileSystemEntry, prefix: string, out: { path: string; file: File }[]): Promise<void> {
  const here = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) out.push({ path: here, file: await fileOf(entry as FileSystemFileEntry) });
  else if (entry.isDirectory) for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, here, out);
}

/**
 * What a drop carries. The entries must be taken while the drop event runs (the browser empties
 * its DataTransfer afterwards), so this reads them first and walks them after.
 */
export function takeDrop(transfer: DataTransfer): () => Promise<{ folders: PickedFolder[]; loose: PickedLoose[] }> {
  const items = [...transfer.items].filter((item) => item.kind === 'file');
  const taken = items.map((item) => ({ entry: item.webkitGetAsEntry(), file: item.getAsFile() }));
  return async () => {
    const folders: PickedFolder[] = [];
    const loose: PickedLoose[] = [];
    for (const { entry, file } of taken) {
      if (entry?.isDirectory) {
        const files: { path: string; file: File }[] = [];
        await walk(entry, '', files);
        folders.push({ name: entry.name, files, self: file });
      } else loose.push({ name: entry?.name ?? file?.name ?? 'an item', file: entry?.isFile ? await fileOf(entry as FileSystemFileEntry) : file });
    }
    return { folders, loose };
  };
}

/** What a folder picker (`<input type=file webkitdirectory>`) chose: files named from the chosen folder down. */
export function takeChosen(files: FileList | readonly File[]): PickedFolder[] {
  const byFolder = new Map<string, { path: string; file: File }[]>();
  for (const file of files) {
    const relative = file.webkitRelativePath || file.name;
    const top = relative.split('/')[0] ?? relative;
    const list = byFolder.get(top) ?? [];
    list.push({ path: relative, file });
    byFolder.set(top, list);
  }
  return [...byFolder].map(([name, list]) => ({ name, files: list, self: null }));
}

/** What a file picker (`<input type=file multiple>`) chose. */
export function takeFiles(files: FileList | readonly File[]): PickedLoose[] {
  return [...files].map((file) => ({ name: file.name, file }));
}

/**
 * The folder loose files are uploaded into, named for the file that names the model (a run
 * imported from it takes that name): the `.json`, `.index`, `.safetensors` or `.h5` file's name
 * without its extension, else the first file's; never the name of a folder in the same upload.
 */
export function looseFolderName(loose: readonly PickedLoose[], taken: readonly string[]): string {
  const main = loose.find((l) => /\.(json|index|safetensors|h5|hdf5)$/i.test(l.name)) ?? loose[0];
  const stem = (main?.name ?? '')
    .replace(/(\.weights)?\.[^.]+$/, '')
    .replace(/[\\/]/g, '_')
    .trim();
  const base = stem === '' || stem === '.' || stem === '..' ? 'dropped-files' : stem;
  let name = base;
  for (let i = 2; taken.includes(name); i += 1) name = `${base}-${i}`;
  return name;
}

/** Loose files as one folder to upload (those the browser would not read are left out: the caller reports them). */
export function looseAsFolder(loose: readonly PickedLoose[], taken: readonly string[]): PickedFolder {
  const name = looseFolderName(loose, taken);
  const files = loose.flatMap((l) => (l.file ? [{ path: `${name}/${l.name}`, file: l.file }] : []));
  return { name, files, self: null };
}

/** A server path with one more name after it, in the server's own separator. */
export function joinServerPath(folder: string, name: string): string {
  const separator = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return `${folder}${separator}${name}`;
}

/**
 * The folder's real path in the desktop app: the dropped folder's own, or, for a picked one, a
 * file's path with its path below the folder taken off.
 */
export function realFolderPath(folder: PickedFolder, pathFor: (file: File) => string): string | null {
  if (folder.self) return pathFor(folder.self) || null;
  const first = folder.files[0];
  if (!first) return null;
  const full = pathFor(first.file);
  const below = first.path.split('/').slice(1);
  // The picker's relative path uses '/', the system's path its own separator (Windows: '\\').
  for (const separator of ['/', '\\']) {
    const tail = `${separator}${below.join(separator)}`;
    if (full.endsWith(tail) && full.length > tail.length) return full.slice(0, full.length - tail.length);
  }
  return null;
}

export class UploadError extends Error {}

/** The tab's token, for the server's upload endpoint (nothing ambient, like a cookie, is a credential). */
function tokenHeaders(): Record<string, string> {
  const token = tabToken();
  return token === null ? {} : { [TOKEN_HEADER]: token };
}

/** Sends every file of the folders under one upload id; returns each folder's staged path on the server. */
export async function uploadFolders(
  uploadId: string,
  folders: readonly PickedFolder[],
  onProgress: (done: number, total: number, name: string) => void,
  signal: AbortSignal,
): Promise<string[]> {
  const total = folders.reduce((sum, f) => sum + f.files.reduce((s, x) => s + x.file.size, 0), 0);
  let done = 0;
  const staged: string[] = [];
  for (const folder of folders) {
    if (folder.files.length === 0) throw new UploadError(`${folder.name}: the folder is empty, so there is nothing to import`);
    let where = '';
    for (const { path, file } of folder.files) {
      onProgress(done, total, path);
      const url = `/upload/${uploadId}/${path.split('/').map(encodeURIComponent).join('/')}`;
      const response = await fetch(url, { method: 'PUT', body: file, headers: tokenHeaders(), credentials: 'omit', signal });
      const body = (await response.json().catch(() => ({}))) as { folder?: string; error?: string };
      if (!response.ok) throw new UploadError(`${path}: the upload was refused: ${body.error ?? response.statusText}`);
      where = body.folder ?? where;
      done += file.size;
    }
    onProgress(done, total, folder.name);
    staged.push(where);
  }
  return staged;
}

/** Tells the server the staged files can go (after the import, or a cancel). */
export async function discardUpload(uploadId: string): Promise<void> {
  await fetch(`/upload/${uploadId}`, { method: 'DELETE', headers: tokenHeaders(), credentials: 'omit' }).catch(() => undefined);
}

/**
 * The one folder a drop carries, when that is all it carries: the desktop app can open it in
 * place by its path. Read while the drop event runs, like takeDrop.
 */
export function droppedFolder(transfer: DataTransfer): File | null {
  const items = [...transfer.items].filter((item) => item.kind === 'file');
  const only = items.length === 1 ? items[0] : undefined;
  return only?.webkitGetAsEntry()?.isDirectory ? only.getAsFile() : null;
}
