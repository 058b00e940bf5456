// The tensors of a checkpoint (of any workspace, or a folder on its own) or of a safetensors file.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { TensorRow } from '../../contract.js';
import { NotFoundError } from '../base/errors.js';
import { MANIFEST_FILE } from '../checkpoint/layout.js';
import { parseManifest, readManifest } from '../checkpoint/manifest.js';
import type { StoredWorkspace } from '../checkpoint/stored-store.js';
import { isMissing } from '../base/regular-file.js';
import { readSafetensorsHeader } from '../checkpoint/safetensors.js';
import { type TargetLocator, readInPlace } from './locate.js';
import type { ForeignDtype } from '../formats/foreign.js';
import { inspectForeign, tensorRow } from '../formats/in-place.js';

async function fileRows(file: string, label: string): Promise<TensorRow[]> {
  const header = await readSafetensorsHeader(file);
  return header.tensors.map((t) => ({ file: label, name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: t.end - t.begin }));
}

/** A folder's tensor files: those its manifest lists, or, without one, every .safetensors in it. */
async function folderRows(dir: string): Promise<TensorRow[]> {
  let files: string[];
  try {
    const manifest = await readManifest(path.join(dir, MANIFEST_FILE));
    if (manifest.foreign) return manifest.foreign.tensors.map((t) => tensorRow({ ...t, dtype: t.dtype as ForeignDtype }));
    files = Object.keys(manifest.files);
  } catch (error) {
    if (!isMissing(error)) throw error;
    files = (await readdir(dir)).filter((name) => name.endsWith('.safetensors')).sort();
    if (files.length === 0) throw new NotFoundError(dir, 'holds no manifest.json and no .safetensors file');
  }
  const rows: TensorRow[] = [];
  for (const file of files) rows.push(...(await fileRows(path.join(dir, file), file)));
  return rows;
}

export async function inspectTarget(locator: TargetLocator, target: string): Promise<TensorRow[]> {
  const located = readInPlace(await locator.locate(target));
  if (located.kind === 'foreign') return inspectForeign(located.reader, located.path);
  if (located.kind === 'file') return fileRows(located.path, path.basename(located.path));
  return folderRows(located.kind === 'folder' ? located.path : located.checkpoint.path);
}

/** A checkpoint of a workspace in S3: its manifest lists every tensor (one GET; the tensor files are not read). */
export async function inspectStored(workspace: StoredWorkspace, target: string): Promise<TensorRow[]> {
  const checkpoint = workspace.resolve(target);
  const key = `${checkpoint.id}/${MANIFEST_FILE}`;
  const manifest = parseManifest(workspace.storage.locate(key), new TextDecoder().decode(await workspace.storage.read(key)));
  if (manifest.foreign) return manifest.foreign.tensors.map((t) => tensorRow({ ...t, dtype: t.dtype as ForeignDtype }));
  return manifest.tensors.map((t) => ({ file: t.file, name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: t.bytes }));
}
