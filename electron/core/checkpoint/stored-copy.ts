// Checkpoints between a folder and a workspace in S3, with the same guarantees as a save: into
// the bucket, a checkpoint's files go up first (marked as ours) and its manifest last, created
// once (If-None-Match: *), under the run's lease; out of the bucket, a prefix's objects come down
// into a folder of the caller's (a staging folder that the importer or exporter then reads).
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RefusedError, UsageError } from '../base/errors.js';
import { acquireLease } from '../storage/lease-lock.js';
import type { Storage } from '../storage/storage.js';
import { MANIFEST_FILE, METRICS_FILE, RUN_FILE, parseCheckpointDirName } from './layout.js';
import { parseManifestSummary } from './manifest.js';
import { WRITER_MARK } from './storage-writer.js';
import { type KeptRunIndex, METRIC_PARTS_DIR, recordInRunIndex } from './stored-listing.js';
import { RewriteCounter } from '../storage/noncurrent-versions.js';

const STEP_TAKEN = 'a checkpoint with this step already exists in the bucket; checkpoints are never overwritten';

async function* fileChunks(file: string): AsyncIterable<Uint8Array> {
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) yield chunk as Buffer;
}

/**
 * The objects under `prefix`, written under `dir` with the same relative names: all of them, or
 * those `keep` takes (it sees every relative key first). Returns how many were written.
 */
export async function downloadPrefix(
  storage: Storage,
  prefix: string,
  dir: string,
  keep?: (relative: string, all: ReadonlySet<string>) => boolean,
): Promise<number> {
  const objects: string[] = [];
  for await (const object of storage.list(prefix)) objects.push(object.key);
  const all = new Set(objects.map((key) => key.slice(prefix.length)));
  let count = 0;
  for (const key of objects) {
    const relative = key.slice(prefix.length);
    const parts = relative.split('/');
    // Keys are names, not paths: one that would lead out of the folder is not ours to write.
    if (relative === '' || parts.some((p) => p === '' || p === '.' || p === '..')) continue;
    if (keep && !keep(relative, all)) continue;
    const target = path.join(dir, ...parts);
    await mkdir(path.dirname(target), { recursive: true });
    // Streamed to the file: a checkpoint's object may be larger than memory wants to hold.
    await pipeline(Readable.from(storage.stream(key)), createWriteStream(target));
    count += 1;
  }
  if (count === 0) throw new UsageError(storage.locate(prefix), 'holds no objects');
  return count;
}

/**
 * A source in a bucket copied down for an importer. One of our runs comes down as a listing sees
 * it: run.json and its committed checkpoints (never a save in progress, the lock or the index),
 * its metrics parts joined into the metrics.jsonl a folder run keeps. Anything else (one
 * checkpoint's folder, another program's files) comes down as it is.
 */
export async function downloadSource(storage: Storage, prefix: string, dir: string): Promise<void> {
  const keys = new Set<string>();
  for await (const object of storage.list(prefix)) keys.add(object.key.slice(prefix.length));
  const committed = (relative: string): boolean => {
    const [folder, file] = relative.split('/');
    return file !== undefined && folder !== undefined && parseCheckpointDirName(folder) !== null && keys.has(`${folder}/${MANIFEST_FILE}`);
  };
  const ours = keys.has(RUN_FILE) || [...keys].some((key) => key.split('/').length === 2 && committed(key) && key.endsWith(`/${MANIFEST_FILE}`));
  if (!ours) {
    await downloadPrefix(storage, prefix, dir);
    return;
  }
  await downloadPrefix(storage, prefix, dir, (relative) => relative === RUN_FILE || committed(relative));
  const parts = [...keys].filter((key) => key.startsWith(`${METRIC_PARTS_DIR}/`) && key.endsWith('.jsonl')).sort();
  const texts: string[] = [];
  for (const part of parts) texts.push(new TextDecoder().decode(await storage.read(`${prefix}${part}`)));
  if (texts.length > 0) await writeFile(path.join(dir, METRICS_FILE), texts.map((t) => (t.endsWith('\n') ? t : `${t}\n`)).join(''));
}

/**
 * A run folder of ours (run.json and ckpt-* folders, as a local import leaves it) into the bucket
 * as run `run`: its run.json when the bucket has none yet, then each checkpoint committed as a
 * save commits. Returns the ids committed, in step order.
 */
export async function uploadRun(storage: Storage, runDir: string, run: string, checkpoints: readonly string[]): Promise<string[]> {
  const runFile = await readFile(path.join(runDir, RUN_FILE)).catch(() => null);
  if (runFile !== null) await storage.write(`${run}/${RUN_FILE}`, runFile, { exclusive: true });
  const lease = await acquireLease(storage, `${run}/.lock/`);
  const kept: KeptRunIndex = { rewrites: new RewriteCounter(storage) };
  const committed: string[] = [];
  try {
    const mark = { metadata: { [WRITER_MARK]: `${lease.holder.host}:${lease.holder.pid}:${lease.holder.token}` } };
    for (const name of [...checkpoints].sort((a, b) => (parseCheckpointDirName(a) ?? 0) - (parseCheckpointDirName(b) ?? 0))) {
      const folder = `${run}/${name}/`;
      const dir = path.join(runDir, name);
      const files = (await readdir(dir, { withFileTypes: true, recursive: true })).filter((e) => e.isFile());
      if ((await storage.stat(`${folder}${MANIFEST_FILE}`)) !== null) throw new RefusedError(storage.locate(folder), STEP_TAKEN);
      for (const file of files) {
        const relative = path.relative(dir, path.join(file.parentPath, file.name)).split(path.sep).join('/');
        if (relative === MANIFEST_FILE) continue;
        await storage.upload(`${folder}${relative}`, fileChunks(path.join(dir, relative)), mark);
      }
      const manifest = await readFile(path.join(dir, MANIFEST_FILE));
      await lease.check();
      if (!(await storage.write(`${folder}${MANIFEST_FILE}`, manifest, { exclusive: true }))) throw new RefusedError(storage.locate(folder), STEP_TAKEN);
      await recordInRunIndex(storage, `${run}/`, folder, parseManifestSummary(storage.locate(`${folder}${MANIFEST_FILE}`), manifest.toString('utf8')), kept);
      committed.push(`${run}/${name}`);
    }
  } finally {
    await lease.release();
  }
  return committed;
}
