// One safetensors file's header as the tensors a ForeignCheckpoint lists. The header is parsed and
// validated by our own checkpoint format's parser (tensor.rs `validate()`), so a foreign file is
// held to exactly the rules our files are.
import path from 'node:path';
import { type SafetensorsHeader, readSafetensorsHeaderFrom } from '../../checkpoint/safetensors.js';
import { quoted, shown } from '../../base/describe-value.js';
import { openFile } from '../../storage/file-access.js';
import type { ForeignTensor } from '../foreign.js';
import { aboutFile } from './fs-problem.js';

export const SAFETENSORS_SUFFIX = '.safetensors';

export interface TensorFile {
  /** Relative to the checkpoint's folder, `/`-separated. */
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  readonly header: SafetensorsHeader;
}

/** Reads and validates the header of `dir`/`name`; no tensor data is read. */
export function readTensorFile(dir: string, name: string): Promise<TensorFile> {
  const file = path.join(dir, ...name.split('/'));
  return aboutFile(file, async () => {
    const { file: handle, size } = await openFile(file);
    try {
      return { name, path: file, bytes: size, header: await readSafetensorsHeaderFrom(handle, file, size) };
    } finally {
      await handle.close();
    }
  });
}

/** Its tensors in file order. */
export function tensorsOf(file: TensorFile): ForeignTensor[] {
  return [...file.header.tensors]
    .sort((a, b) => a.begin - b.begin || a.end - b.end)
    .map((t) => ({
      name: t.name,
      displayName: t.name,
      dtype: t.dtype,
      shape: t.shape,
      file: file.name,
      offset: t.begin,
      bytes: t.end - t.begin,
      role: 'model' as const,
    }));
}

/** `__metadata__` said to the user (writers record their framework there: `format: pt`). */
export function metadataNote(file: TensorFile): string | null {
  const entries = Object.entries(file.header.metadata);
  if (entries.length === 0) return null;
  const text = entries.map(([key, value]) => `${shown(key)}=${quoted(value)}`).join(', ');
  return `${file.name} __metadata__: ${text.length > 500 ? `${text.slice(0, 500)}…` : text}`;
}

/**
 * Every tensor of `files`, refusing a name held by two of them: which copy a loader would take
 * depends on its load order, so the checkpoint has no one meaning.
 */
export function uniqueTensors(files: readonly TensorFile[], duplicate: (name: string, first: string, second: TensorFile) => Error): ForeignTensor[] {
  const owner = new Map<string, string>();
  const tensors: ForeignTensor[] = [];
  for (const file of files) {
    for (const tensor of tensorsOf(file)) {
      const first = owner.get(tensor.name);
      if (first !== undefined) throw duplicate(tensor.name, first, file);
      owner.set(tensor.name, file.name);
      tensors.push(tensor);
    }
  }
  return tensors;
}

/** A short list of names for a note; long folders would otherwise make a note of thousands. */
export function listNames(names: readonly string[], limit = 12): string {
  if (names.length <= limit) return names.join(', ');
  return `${names.slice(0, limit).join(', ')} and ${names.length - limit} more`;
}
