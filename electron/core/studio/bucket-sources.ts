// Checkpoints in a bucket as the importer and exporter take them: copied down into a staging
// folder of this machine first (they read files), removed afterwards whatever happened. What they
// report names the s3:// address the user gave, not the staging folder.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImportReport, S3Connection } from '../../contract.js';
import { downloadPrefix, downloadSource } from '../checkpoint/stored-copy.js';
import { s3Options } from '../checkpoint/stored-open.js';
import { openS3Storage } from '../storage/open-s3.js';
import { isS3Address, parseS3Address } from '../storage/s3-address.js';
import type { Storage } from '../storage/storage.js';

async function staged<T>(work: (staging: string) => Promise<T>): Promise<T> {
  const staging = await mkdtemp(path.join(os.tmpdir(), 'checkpoint-studio-s3-'));
  try {
    return await work(staging);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Runs an import whose sources may be s3:// addresses (a run's prefix, or one checkpoint's): each
 * is copied down under its own last name, the import reads the copies, and its report speaks of
 * the addresses.
 */
export async function withSourcesFromBuckets(
  sources: readonly string[],
  connection: S3Connection | undefined,
  run: (sources: string[]) => Promise<ImportReport>,
): Promise<ImportReport> {
  return staged(async (staging) => {
    const local = new Map<string, string>();
    const named: string[] = [];
    for (const [i, source] of sources.entries()) {
      if (!isS3Address(source)) {
        named.push(source);
        continue;
      }
      const where = parseS3Address(source);
      const name = where.prefix.split('/').filter(Boolean).at(-1) ?? where.bucket;
      const dir = path.join(staging, String(i), name);
      const storage = openS3Storage(`s3://${where.bucket}/`, s3Options(connection));
      try {
        await downloadSource(storage, where.prefix, dir);
      } finally {
        storage.client.destroy();
      }
      local.set(dir, source);
      named.push(dir);
    }
    const report = await run(named);
    return { ...report, results: report.results.map((r) => ({ ...r, source: local.get(r.source) ?? r.source })) };
  });
}

/** Runs `work` on a copy of one checkpoint of a bucket (its folder, named as in the bucket). */
export function withCheckpointFromBucket<T>(storage: Storage, id: string, work: (folder: string) => Promise<T>): Promise<T> {
  return staged(async (staging) => {
    const folder = path.join(staging, ...id.split('/'));
    await downloadPrefix(storage, `${id}/`, folder);
    return work(folder);
  });
}
