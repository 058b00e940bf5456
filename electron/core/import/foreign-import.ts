// Importing another program's checkpoints (TensorFlow, TF.js, safetensors, Keras HDF5). Each
// checkpoint the source holds becomes a `ckpt-<step>` folder of a new run with our manifest.json,
// which says what the source's files are and where each tensor lies in them. Copied (the
// default), the files sit beside the manifest byte for byte as they were; linked, they stay where
// they are and are only ever read. Either way every tensor is read once here, through its
// format's reader (which checks the format's own checksums), and its CRC-32C recorded, so verify
// can later tell a changed byte.
import { mkdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { writeFileDurably } from '../base/durable-fs.js';
import { formatCrc } from '../base/crc32c.js';
import { quoted } from '../base/describe-value.js';
import { CheckpointFormatError, RefusedError } from '../base/errors.js';
import { MANIFEST_FILE, checkpointDirName } from '../checkpoint/layout.js';
import { FORMAT_NAME, FORMAT_VERSION, type ForeignPart, type Manifest, WRITER_PROGRAM } from '../checkpoint/manifest.js';
import { STUDIO_VERSION } from '../version.js';
import { type ForeignCheckpoint, type ForeignReader, type ForeignSource, checkpointNotes, checkpointPath } from '../formats/foreign.js';
import type { Importer, StageContext, StagedSource } from './importer.js';

/** Steps for every checkpoint of a source: its own where known, else numbered after the known ones, said in a note. */
export function assignSteps(source: ForeignSource): { steps: number[]; notes: string[] } {
  const notes: string[] = [];
  const known = source.checkpoints.map((c) => c.step).filter((s): s is number => s !== null);
  let next = known.length > 0 ? Math.max(...known) + 1 : 0;
  const steps = source.checkpoints.map((c) => {
    if (c.step !== null) return c.step;
    const step = next++;
    notes.push(`${checkpointPath(c)}: imported as step ${step}, as it records no step of its own`);
    return step;
  });
  const seen = new Map<number, ForeignCheckpoint>();
  source.checkpoints.forEach((c, i) => {
    const step = steps[i] as number;
    const other = seen.get(step);
    if (other)
      throw new CheckpointFormatError(
        checkpointPath(c),
        `holds step ${step}, as ${checkpointPath(other)} does; import them separately (with --run) so each step is one checkpoint`,
      );
    seen.set(step, c);
  });
  return { steps, notes };
}

async function stageCheckpoint(
  reader: ForeignReader,
  checkpoint: ForeignCheckpoint,
  step: number,
  stageDir: string,
  context: StageContext,
): Promise<{ dirName: string; step: number; from: string; verified: true }> {
  const dirName = checkpointDirName(step);
  const target = path.join(stageDir, dirName);
  await mkdir(target);
  const linked = context.mode === 'link';
  if (!linked) {
    for (const file of checkpoint.files) {
      if (file.name === MANIFEST_FILE)
        throw new RefusedError(
          path.join(checkpoint.dir, file.name),
          `is named like the ${MANIFEST_FILE} a copied checkpoint keeps beside its files; import it with --link`,
        );
      await mkdir(path.dirname(path.join(target, file.name)), { recursive: true });
      await context.copyFile(path.join(checkpoint.dir, file.name), path.join(target, file.name));
    }
  }
  // Read back from what the workspace will keep: the copy, or the linked files themselves.
  const readFrom: ForeignCheckpoint = linked ? checkpoint : { ...checkpoint, dir: target };
  const crcs = new Map<string, string>();
  for await (const item of reader.read(readFrom, { signal: context.signal })) {
    crcs.set(item.tensor.name, formatCrc(item.storedCrc32c));
    context.readBytes(item.tensor.bytes);
  }
  const unread = checkpoint.tensors.find((t) => !crcs.has(t.name));
  if (unread) throw new CheckpointFormatError(path.join(checkpoint.dir, unread.file), `tensor ${quoted(unread.name)} is listed but could not be read`);
  // The source's own times: kept for a linked file (a change there is noticed), and, where the
  // source records no save time, its newest file's (a copy's times are the moment of the import).
  const mtimes = await Promise.all(checkpoint.files.map(async (f) => (await stat(path.join(checkpoint.dir, f.name))).mtimeMs));
  const savedAt = checkpoint.savedAt ?? Math.max(0, ...mtimes);
  const foreign: ForeignPart = {
    format: checkpoint.format,
    formatLabel: checkpoint.formatLabel,
    name: checkpoint.name,
    linked: linked ? checkpoint.dir : null,
    files: checkpoint.files.map((f, i) => ({ name: f.name, bytes: f.bytes, role: f.role, ...(linked ? { mtimeMs: mtimes[i] as number } : {}) })),
    step: checkpoint.step,
    stepSource: checkpoint.stepSource,
    savedAt: checkpoint.savedAt,
    tensors: checkpoint.tensors.map((t) => ({
      ...t,
      shape: [...t.shape],
      ...(t.slot ? { slot: { ...t.slot } } : {}),
      ...(t.quantization ? { quantization: { ...t.quantization } } : {}),
      crc32c: crcs.get(t.name) as string,
    })),
    notes: [...checkpoint.notes],
  };
  const manifest: Manifest & { imported: unknown } = {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    run: context.run,
    step,
    epoch: 0,
    batchInEpoch: 0,
    createdAt: new Date(savedAt).toISOString(),
    trainingTimeMs: 0,
    metrics: { ...checkpoint.metrics },
    rng: null,
    backend: '',
    parent: null,
    origin: 'imported',
    writer: { program: WRITER_PROGRAM, version: STUDIO_VERSION, host: hostname(), pid: process.pid },
    files: {},
    tensors: [],
    extra: {},
    foreign,
    imported: { source: checkpointPath(checkpoint), at: context.at, format: checkpoint.format, mode: context.mode },
  };
  await writeFileDurably(path.join(target, MANIFEST_FILE), [Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8')]);
  return { dirName, step, from: checkpointPath(checkpoint), verified: true };
}

/** An importer for one foreign format: every checkpoint the source holds becomes one of a new run. */
export function foreignImporter(reader: ForeignReader, label: string): Importer {
  return {
    format: reader.format,
    kind: 'run',
    // Foreign formats are recognised by content (registry.ts sniffForeign), not by a listing.
    matches: () => false,
    async stage(source, stageDir, context): Promise<StagedSource> {
      context.phase('reading');
      const opened = await reader.open(source.path);
      if (opened.checkpoints.length === 0) throw new CheckpointFormatError(source.path, `is ${label}, but holds no checkpoint with tensors to import`);
      const { steps, notes } = assignSteps(opened);
      const sum = (c: ForeignCheckpoint): number =>
        (context.mode === 'link' ? 0 : c.files.reduce((s, f) => s + f.bytes, 0)) + c.tensors.reduce((s, t) => s + t.bytes, 0);
      context.setTotal(opened.checkpoints.reduce((s, c) => s + sum(c), 0));
      context.phase(context.mode === 'link' ? 'verifying' : 'copying');
      const staged = [];
      for (const [i, checkpoint] of opened.checkpoints.entries()) {
        staged.push(await stageCheckpoint(reader, checkpoint, steps[i] as number, stageDir, context));
      }
      notes.push(...checkpointNotes(opened.checkpoints));
      if (opened.latest !== null) {
        const latest = opened.checkpoints.findIndex((c) => c.name === opened.latest);
        if (latest >= 0 && steps[latest] !== Math.max(...steps))
          notes.push(`the source calls ${opened.latest} (step ${steps[latest]}) its latest, though a later step was imported`);
      }
      return { checkpoints: staged, runMeta: { parent: null, config: {} }, notes: [...opened.notes, ...notes] };
    },
  };
}
