// describeSources: what a path holds, read in place, before anything is imported: the format
// (judged by content), every checkpoint with its step and size, which one the source calls
// latest, and what a user should know. Nothing is copied or written.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { SourceDescription } from '../../contract.js';
import { parseCheckpointDirName } from '../checkpoint/layout.js';
import { inspectSummary } from '../checkpoint/reader.js';
import { FORMAT_NAMES, isForeignFormat, readerFor } from '../formats/registry.js';
import { detectSource } from '../import/detect.js';
import { checkpointNotes } from '../formats/foreign.js';
import { errorData } from './errors.js';

type Described = Extract<SourceDescription, { ok: true }>;

async function describeOwn(source: string, format: string): Promise<Described> {
  const isRun = format === 'checkpoint-studio run';
  const dirs = isRun ? (await readdir(source)).filter((name) => parseCheckpointDirName(name) !== null).map((name) => path.join(source, name)) : [source];
  const checkpoints: Described['checkpoints'] = [];
  const notes: string[] = [];
  for (const dir of dirs.sort()) {
    const structure = inspectSummary(dir);
    if (!structure.manifest) {
      notes.push(`${dir}: ${structure.kind === 'complete' ? 'unreadable' : structure.reason}`);
      continue;
    }
    const { manifest } = structure;
    checkpoints.push({
      name: path.basename(dir),
      step: manifest.step,
      stepSource: 'manifest.json',
      tensors: 0,
      bytes: structure.kind === 'complete' ? structure.bytes : 0,
      metrics: manifest.metrics,
      latest: false,
    });
    if (structure.kind !== 'complete') notes.push(structure.reason);
  }
  const last = checkpoints.reduce<Described['checkpoints'][number] | null>((best, c) => (best === null || (c.step ?? 0) > (best.step ?? 0) ? c : best), null);
  return {
    ok: true,
    source,
    format,
    formatLabel: isRun ? 'a Checkpoint Studio run' : 'a Checkpoint Studio checkpoint',
    checkpoints: checkpoints.map((c) => ({ ...c, latest: c === last })),
    notes,
  };
}

export async function describeSource(source: string): Promise<SourceDescription> {
  try {
    const absolute = path.resolve(source);
    const { importer, source: folder } = await detectSource(absolute);
    if (!isForeignFormat(importer.format)) return await describeOwn(folder.path, importer.format);
    const opened = await readerFor(importer.format).open(folder.path);
    const first = opened.checkpoints[0];
    return {
      ok: true,
      source: opened.path,
      format: opened.format,
      formatLabel: first?.formatLabel ?? FORMAT_NAMES[opened.format],
      checkpoints: opened.checkpoints.map((c) => ({
        name: c.name,
        step: c.step,
        stepSource: c.stepSource,
        tensors: c.tensors.length,
        bytes: c.files.reduce((sum, f) => sum + f.bytes, 0),
        metrics: { ...c.metrics },
        latest: opened.latest === c.name,
      })),
      notes: [...opened.notes, ...checkpointNotes(opened.checkpoints)],
    };
  } catch (error) {
    return { ok: false, source, error: errorData(error) };
  }
}
