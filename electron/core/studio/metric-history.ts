// A run's metrics.jsonl a page at a time: a history of millions of points is read in pieces,
// from a byte offset (the cursor), and only whole lines are returned.
import { StudioError } from '../../contract.js';
import path from 'node:path';
import type { MetricPage, MetricRecord, RunInfo, RunMeta } from '../../contract.js';
import { METRICS_FILE } from '../checkpoint/layout.js';
import { isMissing, openRegular } from '../base/regular-file.js';

const CHUNK = 1 << 20;

export async function readMetricPage(runDir: string, run: string, after: string | undefined, limit: number): Promise<MetricPage> {
  let offset = 0;
  if (after !== undefined) {
    if (!/^\d{1,15}$/.test(after)) throw new StudioError('usage', `"${after}" is not a cursor this call returned`);
    offset = Number(after);
  }
  let opened;
  try {
    opened = await openRegular(path.join(runDir, METRICS_FILE));
  } catch (error) {
    if (isMissing(error)) return { run, records: [], next: null };
    throw error;
  }
  const { handle } = opened;
  const records: MetricRecord[] = [];
  try {
    let carry = Buffer.alloc(0);
    let position = offset;
    const buffer = Buffer.allocUnsafe(CHUNK);
    while (records.length < limit) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, position + carry.length);
      if (bytesRead === 0) break;
      let data = Buffer.concat([carry, buffer.subarray(0, bytesRead)]);
      let newline: number;
      while (records.length < limit && (newline = data.indexOf(0x0a)) >= 0) {
        const line = data.subarray(0, newline).toString('utf8');
        position += newline + 1;
        data = data.subarray(newline + 1);
        try {
          const value: unknown = JSON.parse(line);
          if (typeof value === 'object' && value !== null && !Array.isArray(value)) records.push(value as MetricRecord);
        } catch {
          // A line torn by a crash mid-append is skipped, as everywhere else.
        }
      }
      carry = Buffer.from(data);
    }
    return { run, records, next: records.length >= limit ? String(position) : null };
  } finally {
    await handle.close();
  }
}

/** A page of a run read in place's history (records its layout read from the folder's logs); the cursor is an index. */
export function inPlaceMetricPage(records: readonly MetricRecord[], run: string, after: string | undefined, limit: number): MetricPage {
  if (after !== undefined && !/^\d{1,15}$/.test(after)) throw new StudioError('usage', `"${after}" is not a cursor this call returned`);
  const start = after === undefined ? 0 : Number(after);
  const end = start + limit;
  return { run, records: records.slice(start, end), next: end < records.length ? String(end) : null };
}

/** What a run read in place records of itself, in run.json's shape: its hyper-parameters, where its folder says (TensorBoard's hparams). */
export function inPlaceRunMeta(run: RunInfo, config: Readonly<Record<string, unknown>> | null): RunMeta {
  return {
    formatVersion: 1,
    name: run.name,
    createdAt: run.createdAt ?? new Date(0).toISOString(),
    parent: null,
    config: JSON.parse(JSON.stringify({ layout: run.layout, ...(config ? { hparams: config } : {}) })) as RunMeta['config'],
  };
}
