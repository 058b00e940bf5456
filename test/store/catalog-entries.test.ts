// The catalog's table (catalog-entries.ts) on its own: a run new to it is added without touching its
// entries one by one, so what each change tells must still be exactly one event per entry, as the
// entry was before the change and as it is after.
import { describe, expect, it } from 'vitest';
import type { CatalogEvent, CheckpointInfo, CheckpointRef, RunInfo } from '../../electron/contract.js';
import { CatalogEntries, Change } from '../../electron/core/checkpoint/catalog-entries.js';
import type { ScannedCheckpoint, ScannedRun } from '../../electron/core/checkpoint/catalog-scan.js';

function checkpoint(run: string, step: number, parent: CheckpointRef | null = null, dirName = `ckpt-${String(step).padStart(9, '0')}`): ScannedCheckpoint {
  const info: CheckpointInfo = {
    id: `${run}/${dirName}`,
    run,
    step,
    stepKnown: true,
    path: `/ws/${run}/${dirName}`,
    status: 'unverified',
    statusReason: null,
    bytes: 10,
    epoch: 0,
    batchInEpoch: step,
    createdAt: null,
    trainingTimeMs: null,
    saveBlockedMs: null,
    source: null,
    metrics: { loss: 1 / step },
    backend: 'cpu',
    parent,
    origin: 'trained',
    linked: false,
    pinned: false,
    sameStepAs: [],
    protectedBy: [],
    files: null,
    notes: [],
  };
  return { info, signature: `s${step}`, announce: true };
}

function scannedRun(name: string, checkpoints: ScannedCheckpoint[], writer: RunInfo['writer'] = null): ScannedRun {
  const info: RunInfo = {
    name,
    path: `/ws/${name}`,
    layout: 'studio',
    label: null,
    latest: null,
    createdAt: null,
    parent: null,
    checkpointCount: checkpoints.length,
    bytes: checkpoints.length * 10,
    writer,
    notes: [],
  };
  return { info, checkpoints };
}

/** Applies `apply` as one change and returns its events, as the catalog does. */
function changed(entries: CatalogEntries, apply: (change: Change) => void): CatalogEvent[] {
  const change = new Change();
  apply(change);
  return entries.finish(change, true);
}

const summary = (events: CatalogEvent[]): string[] =>
  events.map((e) => `${e.type} ${'checkpoint' in e ? `${e.checkpoint.id} ${e.checkpoint.protectedBy.map((p) => p.kind).join(',')}` : e.id}`).sort();

const WRITER = { pid: 42, host: 'here', since: '2026-01-01T00:00:00.000Z' };

describe('the catalog table', () => {
  it('tells one added event per checkpoint of a run new to it, each with its protections', () => {
    const entries = new CatalogEntries();
    const events = changed(entries, (change) => {
      entries.applyRun('a', scannedRun('a', [checkpoint('a', 1), checkpoint('a', 2)], WRITER), change);
      entries.applyRun('b', scannedRun('b', [checkpoint('b', 1)]), change);
    });
    expect(summary(events)).toEqual(['added a/ckpt-000000001 writer', 'added a/ckpt-000000002 writer', 'added b/ckpt-000000001 ']);
    expect(entries.checkpoints.get('a/ckpt-000000002')?.info.protectedBy.map((p) => p.kind)).toEqual(['writer']);
  });

  it('tells nothing of a run added and gone in the same change', () => {
    const entries = new CatalogEntries();
    const events = changed(entries, (change) => {
      entries.applyRun('a', scannedRun('a', [checkpoint('a', 1), checkpoint('a', 2)]), change);
      entries.applyRun('a', null, change);
    });
    expect(events).toEqual([]);
    expect(entries.checkpoints.size).toBe(0);
  });

  it('tells added, not changed, of a new run whose entries the same change touched again', () => {
    const entries = new CatalogEntries();
    const events = changed(entries, (change) => {
      entries.applyRun('a', scannedRun('a', [checkpoint('a', 1), checkpoint('a', 2)]), change);
      // Its writer comes in the same change: every entry of the run is touched.
      entries.setRun('a', scannedRun('a', [], WRITER).info, change);
    });
    expect(summary(events)).toEqual(['added a/ckpt-000000001 writer', 'added a/ckpt-000000002 writer']);
  });

  it('protects the parent a run added in the same change continued from, and marks twins of a step', () => {
    const entries = new CatalogEntries();
    const events = changed(entries, (change) => {
      entries.applyRun('base', scannedRun('base', [checkpoint('base', 10)]), change);
      entries.applyRun('tune', scannedRun('tune', [checkpoint('tune', 11, { run: 'base', step: 10 })]), change);
    });
    expect(summary(events)).toEqual(['added base/ckpt-000000010 parent', 'added tune/ckpt-000000011 ']);
    // A second folder of step 10 arrives: both are marked, and the new one is protected as a parent too.
    const twin = changed(entries, (change) => entries.applyOne('base/ckpt-10', 'base', 10, checkpoint('base', 10, null, 'ckpt-10'), change));
    expect(summary(twin)).toEqual(['added base/ckpt-10 parent', 'changed base/ckpt-000000010 parent']);
    expect(entries.checkpoints.get('base/ckpt-000000010')?.info.sameStepAs).toEqual(['base/ckpt-10']);
    // The run gone: each of its entries is told removed, and the parent loses its protection.
    const gone = changed(entries, (change) => entries.applyRun('tune', null, change));
    expect(summary(gone)).toEqual(['changed base/ckpt-000000010 ', 'changed base/ckpt-10 ', 'removed tune/ckpt-000000011']);
  });
});
