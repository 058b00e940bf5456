// Our own checkpoint folder (manifest.json + safetensors files): copied file by file, with its
// manifest rewritten to say it was imported, from where, and with lineage only where it leads.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileDurably } from '../base/durable-fs.js';
import { CheckpointFormatError } from '../base/errors.js';
import { MANIFEST_FILE, checkpointDirName, checkpointId, parseCheckpointDirName } from '../checkpoint/layout.js';
import { type Manifest, parseManifest } from '../checkpoint/manifest.js';
import type { Importer, StageContext, StagedSource } from './importer.js';
import { type SourceFolder, readSourceText, refuseOddEntries } from './source-folder.js';

/** A manifest is a few megabytes at most (its tensor index); more is not one of ours. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export interface PreparedCheckpoint {
  readonly source: SourceFolder;
  readonly manifest: Manifest;
  readonly dirName: string;
  readonly bytes: number;
}

/** Reads and checks a source checkpoint's manifest; nothing is copied yet. */
export async function prepareStudioCheckpoint(source: SourceFolder): Promise<PreparedCheckpoint> {
  refuseOddEntries(source);
  const manifestFile = path.join(source.path, MANIFEST_FILE);
  const manifest = parseManifest(manifestFile, await readSourceText(manifestFile, MAX_MANIFEST_BYTES));
  const folderStep = parseCheckpointDirName(path.basename(source.path));
  if (folderStep !== null && folderStep !== manifest.step) {
    throw new CheckpointFormatError(manifestFile, `says step ${manifest.step}, but the folder ${path.basename(source.path)} holds step ${folderStep}`);
  }
  for (const file of Object.keys(manifest.files)) {
    if (source.entries.get(file) !== 'file') throw new CheckpointFormatError(path.join(source.path, file), 'missing (manifest.json lists it)');
  }
  const bytes = Object.values(manifest.files).reduce((sum, f) => sum + (f?.bytes ?? 0), 0);
  return { source, manifest, dirName: checkpointDirName(manifest.step), bytes };
}

/** Files of the folder we do not carry over, said rather than silently dropped. */
export function leftOut(prepared: PreparedCheckpoint): string[] {
  const kept = new Set([MANIFEST_FILE, ...Object.keys(prepared.manifest.files)]);
  return [...prepared.source.entries.keys()]
    .filter((name) => !kept.has(name))
    .map((name) => `not imported: ${path.join(prepared.source.path, name)} (manifest.json does not list it)`);
}

/** Copies a prepared checkpoint into `<stageDir>/ckpt-<step>` with its rewritten manifest. */
export async function stageStudioCheckpoint(
  prepared: PreparedCheckpoint,
  stageDir: string,
  context: StageContext,
  notes: string[],
): Promise<{ dirName: string; step: number; from: string }> {
  const { manifest, source } = prepared;
  const target = path.join(stageDir, prepared.dirName);
  await mkdir(target);
  for (const file of Object.keys(manifest.files)) await context.copyFile(path.join(source.path, file), path.join(target, file));
  const parent = manifest.parent && context.parentResolves(manifest.parent) ? manifest.parent : null;
  if (manifest.parent && !parent)
    notes.push(
      `lineage dropped: ${path.join(source.path, MANIFEST_FILE)} names parent ${checkpointId(manifest.parent.run, manifest.parent.step)}, which is not in this workspace`,
    );
  const rewritten: Manifest = {
    ...manifest,
    run: context.run,
    parent,
    origin: 'imported',
    // An addition within format version 1 (docs/FORMAT.md §3): where the checkpoint came from.
    imported: { source: source.path, at: context.at, run: manifest.run, origin: manifest.origin, parent: manifest.parent },
  };
  await writeFileDurably(path.join(target, MANIFEST_FILE), [Buffer.from(`${JSON.stringify(rewritten, null, 2)}\n`, 'utf8')]);
  return { dirName: prepared.dirName, step: manifest.step, from: source.path };
}

/** A folder holding manifest.json: one checkpoint of ours. */
export const studioCheckpointImporter: Importer = {
  format: 'checkpoint-studio checkpoint',
  kind: 'checkpoints',
  matches: (source) => source.entries.has(MANIFEST_FILE),
  async stage(source, stageDir, context): Promise<StagedSource> {
    context.phase('reading');
    const prepared = await prepareStudioCheckpoint(source);
    const notes = leftOut(prepared);
    context.setTotal(prepared.bytes);
    context.phase('copying');
    const staged = await stageStudioCheckpoint(prepared, stageDir, context, notes);
    return { checkpoints: [staged], runMeta: null, notes };
  },
};
