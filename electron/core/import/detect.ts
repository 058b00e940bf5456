// The importer registry: which importer reads a path. Our own run and checkpoint folders are
// known by their listing; the foreign formats (TensorFlow, TF.js, safetensors, Keras HDF5) by
// their content, through the format readers' sniff. A path may be a folder, a file, or a
// TensorFlow checkpoint prefix (`…/model.ckpt-1000`) that names no file itself.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, RefusedError } from '../base/errors.js';
import { statIfPresent } from '../base/path-state.js';
import { FORMAT_NAMES, sniffForeign } from '../formats/registry.js';
import { foreignImporter } from './foreign-import.js';
import type { Importer } from './importer.js';
import { type SourceFolder, openSource } from './source-folder.js';
import { studioCheckpointImporter } from './studio-checkpoint.js';
import { studioRunImporter } from './studio-run.js';

/** In order: a checkpoint folder (manifest.json) is more specific than a run folder. */
export const IMPORTERS: readonly Importer[] = [studioCheckpointImporter, studioRunImporter];

export function detectImporter(source: SourceFolder, importers: readonly Importer[] = IMPORTERS): Importer | null {
  return importers.find((i) => i.matches(source)) ?? null;
}

/**
 * The importer for `target` and the source it reads. Our own folders are listed (links inside
 * them refused, see source-folder.ts); a foreign source is handed to its reader by path.
 */
export async function detectSource(target: string): Promise<{ importer: Importer; source: SourceFolder }> {
  if (!path.isAbsolute(target)) throw new RefusedError(target, 'not an absolute path; name what to import by its full path');
  const info = await statIfPresent(target, { follow: true });
  if (info?.isDirectory()) {
    const folder = await openSource(target);
    const own = detectImporter(folder);
    if (own) return { importer: own, source: folder };
  }
  const resolved = info ? await realpath(target) : target;
  const reader = await sniffForeign(resolved);
  if (reader) return { importer: foreignImporter(reader, FORMAT_NAMES[reader.format]), source: { path: resolved, entries: new Map() } };
  if (!info) throw new NotFoundError(target, 'no such file or folder (nor a TensorFlow checkpoint prefix with a .index file)');
  throw new RefusedError(
    target,
    `not something this program can import: it reads its own checkpoint folders (manifest.json) and run folders (run.json, ckpt-*), ${Object.values(FORMAT_NAMES).join(', ')}`,
  );
}
