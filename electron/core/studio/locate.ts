// Where a target a user typed is: a checkpoint of the open workspace (by id or path), a checkpoint
// folder of another workspace (`<workspace>/<run>/ckpt-*`), a folder on its own, or a file.
import path from 'node:path';
import type { CheckpointInfo } from '../../contract.js';
import { NotFoundError } from '../base/errors.js';
import { exists, statIfPresent } from '../base/path-state.js';
import { MANIFEST_FILE, parseCheckpointDirName } from '../checkpoint/layout.js';
import type { ForeignReader } from '../formats/foreign.js';
import { isForeignFormat, readerFor, sniffForeign } from '../formats/registry.js';
import { storedForeignParts } from '../formats/stored-foreign.js';
import { createInPlaceLayouts } from '../layouts/in-place-layouts.js';
import { CheckpointStore } from '../checkpoint/store.js';

export type Located =
  | { readonly kind: 'checkpoint'; readonly store: CheckpointStore; readonly checkpoint: CheckpointInfo }
  | { readonly kind: 'folder'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string }
  /** Another program's checkpoint (a TensorFlow prefix, a model.json, a .safetensors, an .h5…), read in place. */
  | { readonly kind: 'foreign'; readonly reader: ForeignReader; readonly path: string };

/**
 * A checkpoint of a workspace that is another program's, read in place (a TensorFlow group, a
 * Keras file), as its format's reader sees it: what inspect and export read.
 */
export function readInPlace(located: Located): Located {
  if (located.kind !== 'checkpoint' || located.checkpoint.files === null || located.checkpoint.source === null) return located;
  const { format } = located.checkpoint.source;
  return isForeignFormat(format) ? { kind: 'foreign', reader: readerFor(format), path: located.checkpoint.path } : located;
}

/** Resolves targets; opens (read-only) each other workspace a target lives in, once. */
export class TargetLocator {
  private readonly others = new Map<string, Promise<CheckpointStore | null>>();

  constructor(private readonly store: CheckpointStore | null) {}

  async locate(target: string): Promise<Located> {
    if (this.store) {
      try {
        return { kind: 'checkpoint', store: this.store, checkpoint: this.store.resolve(target) };
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    const absolute = path.resolve(target);
    const info = await statIfPresent(absolute, { follow: true });
    // Our own checkpoint folders first: a folder of ours is never read as a foreign format.
    const ours = info?.isDirectory() === true && (await exists(path.join(absolute, MANIFEST_FILE), { follow: true }));
    const reader = ours ? null : await sniffForeign(absolute);
    if (reader) return { kind: 'foreign', reader, path: absolute };
    if (!info) {
      const trashed = await this.store?.trashedError(target);
      if (trashed) throw trashed;
      throw new NotFoundError(target, this.store ? `neither a checkpoint of the workspace ${this.store.root} nor a file or folder` : 'no such file or folder');
    }
    if (!info.isDirectory()) return { kind: 'file', path: absolute };
    // <workspace>/<run>/ckpt-*: read it as part of its workspace, so it is judged like any other.
    if (parseCheckpointDirName(path.basename(absolute)) !== null) {
      const other = await this.workspaceOf(path.dirname(path.dirname(absolute)));
      const checkpoint = other?.catalog.findByPath(path.join(other.root, path.basename(path.dirname(absolute)), path.basename(absolute)));
      if (other && checkpoint) return { kind: 'checkpoint', store: other, checkpoint };
    }
    return { kind: 'folder', path: absolute };
  }

  private workspaceOf(dir: string): Promise<CheckpointStore | null> {
    let opened = this.others.get(dir);
    if (!opened) {
      opened = CheckpointStore.open(dir, { access: 'read', foreign: storedForeignParts, layouts: createInPlaceLayouts() }).catch(() => null);
      this.others.set(dir, opened);
    }
    return opened;
  }
}
