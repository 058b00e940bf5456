// Recognising safetensors by content, reading a few bytes of each candidate: the 8-byte header
// length must fit the file and the header must open with '{' (tensor.rs: HeaderTooLarge,
// InvalidHeaderLength, InvalidHeaderStart); an index must be JSON with a weight_map.
import path from 'node:path';
import { MAX_HEADER_SIZE } from '../../checkpoint/safetensors.js';
import { parseJsonText } from '../../base/parse-json.js';
import { listFiles, openFile, statFile } from '../../storage/file-access.js';
import { checkpointFolderStep } from './folder-listing.js';
import { readJsonText } from './json-file.js';
import { pythonJsonToJson } from './python-json.js';
import { isIndexName } from './sharded.js';
import { SAFETENSORS_SUFFIX } from './tensor-file.js';

/** An index this large is not one worth sniffing; open() gives the reason. */
const MAX_SNIFFED_INDEX = 16 * 1024 * 1024;
/** A folder is judged by a few of its candidate files, not by reading all of them. */
const MAX_CANDIDATES = 8;

export async function looksLikeSafetensors(file: string): Promise<boolean> {
  try {
    const { file: handle, size } = await openFile(file);
    try {
      if (size < 9) return false;
      const start = Buffer.alloc(9);
      const { bytesRead } = await handle.read(start, 0, 9, 0);
      if (bytesRead < 9) return false;
      const declared = start.readBigUInt64LE(0);
      return declared >= 1n && declared <= BigInt(MAX_HEADER_SIZE) && declared <= BigInt(size - 8) && start[8] === 0x7b;
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

export async function looksLikeIndex(file: string): Promise<boolean> {
  if (!isIndexName(path.basename(file))) return false;
  try {
    const json = parseJsonText(file, pythonJsonToJson(await readJsonText(file, MAX_SNIFFED_INDEX)).json);
    if (typeof json !== 'object' || json === null) return false;
    const weightMap: unknown = (json as Record<string, unknown>)['weight_map'];
    return typeof weightMap === 'object' && weightMap !== null && !Array.isArray(weightMap);
  } catch {
    return false;
  }
}

async function folderHoldsWeights(dir: string): Promise<boolean> {
  const names = (await listFiles(dir)).map((e) => e.name).sort();
  const candidates = names.filter((name) => isIndexName(name) || name.endsWith(SAFETENSORS_SUFFIX)).slice(0, MAX_CANDIDATES);
  for (const name of candidates) {
    const file = path.join(dir, name);
    if (isIndexName(name) ? await looksLikeIndex(file) : await looksLikeSafetensors(file)) return true;
  }
  return false;
}

/** A safetensors file, an index, a folder holding either, or a folder of Trainer `checkpoint-N/` folders. */
export async function sniffSafetensors(target: string): Promise<boolean> {
  try {
    const info = await statFile(target);
    if (info === null) return false;
    if (info.kind === 'file') return isIndexName(path.basename(target)) ? await looksLikeIndex(target) : await looksLikeSafetensors(target);
    if (info.kind !== 'folder') return false;
    if (await folderHoldsWeights(target)) return true;
    const checkpoints = (await listFiles(target))
      .filter((entry) => entry.kind === 'folder' && checkpointFolderStep(entry.name) !== null)
      .slice(0, MAX_CANDIDATES);
    for (const entry of checkpoints) {
      if (await folderHoldsWeights(path.join(target, entry.name))) return true;
    }
    return false;
  } catch {
    return false;
  }
}
