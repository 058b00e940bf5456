// The one rule of when a checkpoint is whole. Listing, verify, latest, best and resume all ask
// here, so a folder can never be "damaged" in one view and "ok" or resumable in another.
import path from 'node:path';
import { MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE, parseCheckpointDirName } from './layout.js';
import type { ManifestSummary, TensorEntry } from './manifest.js';

export type WholenessProblem = { readonly status: 'damaged' | 'incomplete'; readonly reason: string };

/**
 * What keeps a checkpoint whose files match its manifest from being whole, or null.
 * `tensors` is the manifest's tensor index when the caller parsed it (verify and load do;
 * listing reads only the summary and checks what the summary can tell).
 */
const TRAINED_PARTS = [MODEL_FILE, OPTIMIZER_FILE] as const;
const OTHER_PARTS = [MODEL_FILE] as const;

export function wholenessProblem(
  dir: string,
  manifest: ManifestSummary,
  tensors?: readonly TensorEntry[],
  /** Where a file of the checkpoint is, as a user finds it (an S3 checkpoint's is an s3:// address). */
  locate: (file: string) => string = (file) => path.join(dir, file),
): WholenessProblem | null {
  // Called for every checkpoint of a listing: nothing is allocated unless there is a problem.
  const folderStep = parseCheckpointDirName(path.basename(dir));
  // A manifest copied into another step's folder would resume at a step the folder does not
  // claim, and hide (or be hidden by) the checkpoint that really holds that step.
  if (folderStep !== null && manifest.step !== folderStep) {
    return {
      status: 'damaged',
      reason: `${locate(MANIFEST_FILE)}: says step ${manifest.step}, but the folder ${path.basename(dir)} holds step ${folderStep}`,
    };
  }
  // An imported foreign checkpoint's tensors are in its source's files, which listing checks.
  if (manifest.foreign) return null;
  for (const file of manifest.origin === 'trained' ? TRAINED_PARTS : OTHER_PARTS) {
    if (!(file in manifest.files)) {
      const what = file === MODEL_FILE ? 'model weights' : 'optimizer state, so training cannot continue from it';
      return { status: 'incomplete', reason: `${locate(MANIFEST_FILE)}: holds no ${what} (${file} is not listed)` };
    }
    if (tensors && !tensors.some((t) => t.file === file)) {
      return { status: 'incomplete', reason: `${locate(MANIFEST_FILE)}: lists no tensor of ${file}` };
    }
  }
  return null;
}
