// The importer registry: which importer reads a folder. One importer per format; the first that
// recognises the folder's listing takes it. The foreign formats (TensorFlow checkpoints, TF.js
// model.json, safetensors files) are added here.
import { RefusedError } from '../checkpoint/errors.js';
import type { Importer } from './importer.js';
import type { SourceFolder } from './source-folder.js';
import { studioCheckpointImporter } from './studio-checkpoint.js';
import { studioRunImporter } from './studio-run.js';

/** In order: a checkpoint folder (manifest.json) is more specific than a run folder. */
export const IMPORTERS: readonly Importer[] = [studioCheckpointImporter, studioRunImporter];

export function detectImporter(source: SourceFolder, importers: readonly Importer[] = IMPORTERS): Importer {
  const importer = importers.find((i) => i.matches(source));
  if (importer) return importer;
  throw new RefusedError(
    source.path,
    `not a folder this program can import: it holds no manifest.json (a checkpoint folder), no run.json and no ckpt-* folder (a run folder); importers: ${importers.map((i) => i.format).join(', ')}`,
  );
}
