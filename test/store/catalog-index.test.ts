// The catalog's persistent index (.studio/catalog/): a fresh open lists unchanged runs from it
// without reading their manifests, and whatever changed behind its back is read again, so that a
// listing from the index is always the listing the folder itself gives.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { CatalogEvent } from '../../electron/contract.js';
import { isTemporaryName } from '../../electron/core/base/temporaries.js';
import { Catalog } from '../../electron/core/checkpoint/catalog.js';
import { INDEX_VERSION, ROW_CELLS, ROW_WIDTH } from '../../electron/core/checkpoint/catalog-index.js';
import { StatQueue, fillIdentities, identitiesOf } from '../../electron/core/checkpoint/catalog-index-stat.js';
import { NO_IN_PLACE_LAYOUTS } from '../../electron/core/checkpoint/in-place.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { storedForeignParts } from '../../electron/core/formats/stored-foreign.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { readJson, rewriteManifest, trainingState, useTempWorkspaces } from './helpers.js';

// The index vouches only for files unchanged for this long (3 s in the app, for file systems with
// a coarse clock); the tests wait this long after making files, and then change them.
const SETTLE_MS = 40;
process.env.CHECKPOINT_STUDIO_INDEX_SETTLE_MS = String(SETTLE_MS);

/** Waits until files made so far may be vouched for: the condition is the clock itself. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_MS + 10));
}

/** How many checkpoint folders were read (their manifest and files' sizes), counted across the module. */
const reads = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../electron/core/checkpoint/reader.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../electron/core/checkpoint/reader.js')>();
  return {
    ...real,
    inspectSummary: (...args: Parameters<typeof real.inspectSummary>) => {
      reads.count += 1;
      return real.inspectSummary(...args);
    },
  };
});

/** Folders under which writes fail as on a read-only mount (we run as root, which permission bits do not stop). */
const readOnly = vi.hoisted(() => new Set<string>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const under = (target: unknown): boolean => [...readOnly].some((root) => String(target) === root || String(target).startsWith(`${root}/`));
  const writing =
    <A extends unknown[], R>(syscall: string, call: (target: never, ...rest: A) => Promise<R>) =>
    (target: never, ...rest: A): Promise<R> =>
      under(target)
        ? Promise.reject(Object.assign(new Error(`EROFS: read-only file system, ${syscall} '${String(target)}'`), { code: 'EROFS', syscall }))
        : call(target, ...rest);
  const replaced = {
    mkdir: writing('mkdir', real.mkdir),
    rename: writing('rename', real.rename),
    rm: writing('rm', real.rm),
    writeFile: writing('writeFile', real.writeFile),
  };
  return { ...real, ...replaced, default: { ...real, ...replaced } };
});

const makeWorkspace = useTempWorkspaces();
const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function openCatalog(workspace: string, index = true): Promise<Catalog> {
  return Catalog.open(workspace, storedForeignParts, NO_IN_PLACE_LAYOUTS, { index });
}

/** A workspace of two runs of three checkpoints (`edit` then changes what it will), its index written by one open. */
async function indexedWorkspace(edit?: (root: string) => void): Promise<string> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  for (const run of ['alpha', 'beta']) {
    const writer = await store.createRun(run, { parent: null, config: {} });
    for (const step of [10, 20, 30]) await writer.save(trainingState(step));
    await writer.close();
  }
  edit?.(root);
  await settle();
  await (await openCatalog(root)).settled();
  return root;
}

function recordFile(workspace: string, run: string): string {
  return path.join(workspace, '.studio', 'catalog', `${run}.json`);
}

/** A spoiler of a record's text: its checkpoints' columns, some replaced by what `edit` gives. */
function withColumns(edit: (columns: Record<string, unknown>) => Record<string, unknown>): (text: string) => string {
  return (text) => {
    const record = JSON.parse(text) as { checkpoints: Record<string, unknown> };
    return JSON.stringify({ ...record, checkpoints: { ...record.checkpoints, ...edit(record.checkpoints) } });
  };
}

/** A spoiler of a record's text: cell `cell` of each checkpoint's row set to what `value` gives for it. */
function withCells(cell: number, value: (i: number, was: number) => number): (text: string) => string {
  return withColumns((c) => {
    const rows = new Float64Array(new Uint8Array(Buffer.from(c.rows as string, 'base64')).buffer);
    for (let i = 0; i * ROW_WIDTH < rows.length; i += 1) rows[i * ROW_WIDTH + cell] = value(i, rows[i * ROW_WIDTH + cell] as number);
    return { rows: Buffer.from(rows.buffer).toString('base64') };
  });
}

/** Replaces a checkpoint's manifest as our writers replace a file: the new one written beside it, then renamed over it. */
function replaceManifest(dir: string, edit: (manifest: Record<string, unknown>) => void): void {
  const file = path.join(dir, 'manifest.json');
  const manifest = readJson(file);
  edit(manifest);
  fs.writeFileSync(`${file}.new`, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(`${file}.new`, file);
}

/** What a fresh open from the index lists, beside what reading every manifest lists (the truth). */
async function listedBothWays(workspace: string): Promise<{ indexed: Catalog; truth: Catalog; read: number }> {
  reads.count = 0;
  const indexed = await openCatalog(workspace);
  const read = reads.count;
  const truth = await openCatalog(workspace, false);
  expect(indexed.snapshot()).toEqual(truth.snapshot());
  return { indexed, truth, read };
}

describe('the catalog index', () => {
  it('lists unchanged runs without reading one manifest, exactly as reading them all does', async () => {
    const workspace = await indexedWorkspace();
    expect(readJson(recordFile(workspace, 'alpha'))).toMatchObject({ version: INDEX_VERSION, run: 'alpha' });
    const { indexed, read } = await listedBothWays(workspace);
    expect(read).toBe(0);
    expect(indexed.list().map((c) => c.id)).toEqual([
      'alpha/ckpt-000000010',
      'alpha/ckpt-000000020',
      'alpha/ckpt-000000030',
      'beta/ckpt-000000010',
      'beta/ckpt-000000020',
      'beta/ckpt-000000030',
    ]);
    // Without the index, every checkpoint is read.
    reads.count = 0;
    await openCatalog(workspace, false);
    expect(reads.count).toBe(6);
  });

  it('reads again only the checkpoint whose manifest another process replaced, before the listing is given', async () => {
    const workspace = await indexedWorkspace();
    // As every writer of ours replaces a file: written beside, renamed over it (which changes its folder).
    replaceManifest(path.join(workspace, 'alpha', 'ckpt-000000020'), (m) => {
      (m.metrics as Record<string, number>).loss = 0.123456789;
    });
    const { indexed, read } = await listedBothWays(workspace);
    expect(read).toBe(1);
    expect(indexed.get('alpha/ckpt-000000020')?.metrics.loss).toBe(0.123456789);
  });

  it('sees a manifest edited in place (its folder unchanged) once the open settles: read again, told as a change, and recorded', async () => {
    const workspace = await indexedWorkspace();
    rewriteManifest(path.join(workspace, 'alpha', 'ckpt-000000020'), (m) => {
      (m.metrics as Record<string, number>).loss = 0.123456789;
    });
    // Old enough for the record written after to vouch for it.
    await settle();
    reads.count = 0;
    const indexed = await openCatalog(workspace);
    // The listing is given before the manifests are checked (catalog-index-check.ts): what that check finds is told as a change.
    const events: CatalogEvent[] = [];
    indexed.subscribe((event) => events.push(event));
    await indexed.settled();
    expect(reads.count).toBe(1);
    expect(events.map((event) => (event.type === 'changed' ? event.checkpoint.id : event.type))).toEqual(['alpha/ckpt-000000020']);
    expect(indexed.get('alpha/ckpt-000000020')?.metrics.loss).toBe(0.123456789);
    expect(indexed.snapshot()).toEqual((await openCatalog(workspace, false)).snapshot());
    // Its run's record was written again: the next open reads nothing, before or after it settles.
    reads.count = 0;
    const next = await openCatalog(workspace);
    await next.settled();
    expect(reads.count).toBe(0);
    expect(next.get('alpha/ckpt-000000020')?.metrics.loss).toBe(0.123456789);
  });

  it.each([
    ['a checkpoint folder added', (run: string) => fs.cpSync(path.join(run, 'ckpt-000000030'), path.join(run, 'ckpt-000000040'), { recursive: true })],
    ['a checkpoint folder removed', (run: string) => fs.rmSync(path.join(run, 'ckpt-000000020'), { recursive: true })],
    ['a checkpoint folder renamed', (run: string) => fs.renameSync(path.join(run, 'ckpt-000000020'), path.join(run, 'ckpt-000000025'))],
    ['a second folder of one step added', (run: string) => fs.cpSync(path.join(run, 'ckpt-000000030'), path.join(run, 'ckpt-30'), { recursive: true })],
    ['a file of a checkpoint removed', (run: string) => fs.rmSync(path.join(run, 'ckpt-000000020', 'optimizer.safetensors'))],
    [
      'run.json rewritten',
      (run: string) =>
        fs.writeFileSync(path.join(run, 'run.json'), `${JSON.stringify({ ...readJson(path.join(run, 'run.json')), createdAt: '2020-01-01T00:00:00.000Z' })}\n`),
    ],
    ['the run folder deleted', (run: string) => fs.rmSync(run, { recursive: true })],
  ])('sees %s by another process', async (_what, change) => {
    const workspace = await indexedWorkspace();
    change(path.join(workspace, 'alpha'));
    const { read } = await listedBothWays(workspace);
    // The other run is still listed from the index.
    expect(read).toBeLessThanOrEqual(4);
  });

  it('sees a pin set by another process', async () => {
    const workspace = await indexedWorkspace();
    const other = await CheckpointStore.open(workspace);
    await other.setPinned('beta/ckpt-000000010', true);
    const { indexed } = await listedBothWays(workspace);
    expect(indexed.get('beta/ckpt-000000010')?.pinned).toBe(true);
    await settle();
    await (await openCatalog(workspace)).settled();
    // retention.json rewritten in place (its folder unchanged): the pin is gone.
    const retention = path.join(workspace, 'beta', 'retention.json');
    fs.writeFileSync(retention, `${JSON.stringify({ ...readJson(retention), pinned: [] })}\n`);
    const after = await listedBothWays(workspace);
    expect(after.indexed.get('beta/ckpt-000000010')?.pinned).toBe(false);
  });

  it('sees a verification remembered after the index was written', async () => {
    const workspace = await indexedWorkspace();
    const other = await openCatalog(workspace);
    await other.verify(['alpha/ckpt-000000010']);
    const { indexed, read } = await listedBothWays(workspace);
    expect(read).toBe(0);
    expect(indexed.get('alpha/ckpt-000000010')?.status).toBe('verified');
  });

  it.each([
    ['a record of garbage', 'not json at all {'],
    ['a torn record', (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ['a record of another version', (text: string) => text.replace(`"version":${INDEX_VERSION}`, '"version":999')],
    ["another run's record", (text: string) => text.replaceAll('"run":"alpha"', '"run":"beta"')],
    [
      'a record of the previous version (a tuple per checkpoint)',
      (text: string) => {
        const { checkpoints: c, ...run } = JSON.parse(text) as { checkpoints: Record<string, unknown[]> };
        const tuples = c.names?.map((name, i) => [name, [1, 2, 3, 4], [5, 6, 7, 8], c.signatures?.[i]]);
        return JSON.stringify({ ...run, version: 1, checkpoints: tuples });
      },
    ],
    ['a record whose columns disagree in length', withColumns((c) => ({ createdAt: (c.createdAt as unknown[]).slice(1) }))],
    [
      'a record whose rows are fewer than its names',
      withColumns((c) => ({
        rows: Buffer.from(c.rows as string, 'base64')
          .subarray(8 * ROW_WIDTH)
          .toString('base64'),
      })),
    ],
    ['a record whose signatures are longer than its rows say', withColumns((c) => ({ signatures: `${c.signatures as string}x` }))],
    ['a record whose signatures are shorter than its rows say', withColumns((c) => ({ signatures: (c.signatures as string).slice(1) }))],
    [
      'a record with fewer metric values than its metric names call for',
      withColumns((c) => ({
        metricValues: Buffer.from(c.metricValues as string, 'base64')
          .subarray(Float64Array.BYTES_PER_ELEMENT)
          .toString('base64'),
      })),
    ],
    ['a record naming a path that is no checkpoint folder', withColumns((c) => ({ names: ['../beta/ckpt-000000010', ...(c.names as string[]).slice(1)] }))],
    [
      'a record naming one metric twice in a list',
      withColumns((c) => ({ metricNames: (c.metricNames as string[][]).map((names) => [names[0], ...names.slice(0, -1)]) })),
    ],
    ['a record naming a backend it does not hold', withCells(ROW_CELLS.backend, () => 7)],
    ['a record naming a list of metric names it does not hold', withCells(ROW_CELLS.metrics, (i, was) => (i === 1 ? 5 : was))],
    ['a record wrong in one field', withCells(ROW_CELLS.bytes, (i, was) => (i === 0 ? 0.5 : was))],
    ['a record whose epoch is not a count', withCells(ROW_CELLS.epoch, (i, was) => (i === 2 ? -1 : was))],
    ['a record whose training time is endless', withCells(ROW_CELLS.trainingTimeMs, () => Infinity)],
    ["a record whose run folder's identity is three numbers", (text: string) => text.replace(/"dir":\[[^\]]*\]/, '"dir":[1,2,3]')],
    ['a record whose parent is no checkpoint', (text: string) => text.replace('"parent":null', '"parent":{"run":5}')],
    ['a record whose pins are not names', (text: string) => text.replace('"pinned":[]', '"pinned":[7]')],
  ])('ignores %s without a word, and writes it again', async (_what, spoil) => {
    const workspace = await indexedWorkspace();
    const file = recordFile(workspace, 'alpha');
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, typeof spoil === 'string' ? spoil : spoil(good));
    const warned = vi.spyOn(console, 'warn');
    const errored = vi.spyOn(console, 'error');
    const { indexed, read } = await listedBothWays(workspace);
    expect(read).toBe(3);
    expect(indexed.skipped()).toEqual([]);
    expect(warned).not.toHaveBeenCalled();
    expect(errored).not.toHaveBeenCalled();
    await indexed.settled();
    expect(readJson(recordFile(workspace, 'alpha'))).toMatchObject({ version: INDEX_VERSION, run: 'alpha' });
    expect((await listedBothWays(workspace)).read).toBe(0);
  });

  it('lists from its columns exactly what the manifests say: other metrics, none, a null, a parent, another backend', async () => {
    const workspace = await indexedWorkspace((root) => {
      rewriteManifest(path.join(root, 'alpha', 'ckpt-000000010'), (m) => ({ ...m, metrics: {} }));
      rewriteManifest(path.join(root, 'alpha', 'ckpt-000000020'), (m) => ({ ...m, metrics: { accuracy: null, '0': 2, loss: 0.5 }, backend: 'other' }));
      rewriteManifest(path.join(root, 'beta', 'ckpt-000000030'), (m) => ({ ...m, parent: { run: 'alpha', step: 30 } }));
    });
    const stored = readJson(recordFile(workspace, 'alpha')) as { checkpoints: { names: string[]; metricNames: string[][] } };
    expect(stored.checkpoints.names).toHaveLength(3);
    expect(stored.checkpoints.metricNames.length).toBeGreaterThan(1);
    const { indexed, read } = await listedBothWays(workspace);
    expect(read).toBe(0);
    expect(indexed.get('alpha/ckpt-000000020')?.metrics).toEqual({ '0': 2, accuracy: null, loss: 0.5 });
    expect(indexed.get('beta/ckpt-000000030')?.parent).toEqual({ run: 'alpha', step: 30 });
    expect(indexed.get('alpha/ckpt-000000030')?.protectedBy).not.toEqual([]);
  });

  it('lists two folders of one step from the index as reading the folder does, each naming the other', async () => {
    const workspace = await indexedWorkspace((root) =>
      fs.cpSync(path.join(root, 'alpha', 'ckpt-000000020'), path.join(root, 'alpha', 'ckpt-20'), { recursive: true }),
    );
    const { indexed, read } = await listedBothWays(workspace);
    expect(read).toBe(0);
    expect(indexed.get('alpha/ckpt-20')?.sameStepAs).toEqual(['alpha/ckpt-000000020']);
    expect(indexed.get('alpha/ckpt-000000020')?.sameStepAs).toEqual(['alpha/ckpt-20']);
  });

  it('lists a workspace of many runs from the index as reading them does, one checkpoint of several runs changed behind it', async () => {
    // Over 100 records: the stat worker starts before the first is read, and each agreeing run is in the table before its checks are in.
    const workspace = await indexedWorkspace((root) => {
      for (let r = 0; r < 120; r += 1) fs.cpSync(path.join(root, 'alpha'), path.join(root, `run-${String(r).padStart(3, '0')}`), { recursive: true });
    });
    for (const run of ['run-000', 'run-057', 'run-119'])
      replaceManifest(path.join(workspace, run, 'ckpt-000000020'), (m) => {
        (m.metrics as Record<string, number>).loss = 0.25;
      });
    const { indexed, read } = await listedBothWays(workspace);
    expect(read).toBe(3);
    expect(indexed.list()).toHaveLength(122 * 3);
    expect(indexed.get('run-057/ckpt-000000020')?.metrics.loss).toBe(0.25);
  });

  it('tells of no change that did not happen when an open catalog, newer than its index, lists again', async () => {
    const workspace = await indexedWorkspace();
    const catalog = await openCatalog(workspace);
    await catalog.settled();
    // The table learns of the change; the record, written before, still holds the old manifest.
    rewriteManifest(path.join(workspace, 'alpha', 'ckpt-000000020'), (m) => {
      (m.metrics as Record<string, number>).loss = 0.5;
    });
    await catalog.refreshCheckpoint('alpha', 'ckpt-000000020');
    const events: CatalogEvent[] = [];
    catalog.subscribe((event) => events.push(event));
    await catalog.refresh();
    expect(events).toEqual([]);
    expect(catalog.get('alpha/ckpt-000000020')?.metrics.loss).toBe(0.5);
  });

  it('removes the record of a run that is gone', async () => {
    const workspace = await indexedWorkspace();
    fs.rmSync(path.join(workspace, 'beta'), { recursive: true });
    await (await openCatalog(workspace)).settled();
    expect(fs.existsSync(recordFile(workspace, 'beta'))).toBe(false);
  });

  it('writes no record through a symbolic link in .studio/', async () => {
    const { root, base } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('alpha', { parent: null, config: {} });
    await writer.save(trainingState(1));
    await writer.close();
    const elsewhere = path.join(base, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.mkdirSync(path.join(root, '.studio'), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(root, '.studio', 'catalog'));
    await settle();
    const catalog = await openCatalog(root);
    await catalog.settled();
    expect(catalog.list()).toHaveLength(1);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });

  it('lists a read-only workspace, writing nothing', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('alpha', { parent: null, config: {} });
    await writer.save(trainingState(1));
    await writer.close();
    fs.rmSync(path.join(root, '.studio'), { recursive: true, force: true });
    readOnly.add(fs.realpathSync(root));
    try {
      const catalog = await openCatalog(root);
      await catalog.settled();
      expect(catalog.list().map((c) => c.id)).toEqual(['alpha/ckpt-000000001']);
      await catalog.refresh();
      expect(fs.existsSync(path.join(root, '.studio'))).toBe(false);
    } finally {
      readOnly.clear();
    }
  });
});

describe('a one-shot Studio (the command line)', () => {
  it('answers with a manifest edited in place since the index was written: it waits for the check left for after an open', async () => {
    const workspace = await indexedWorkspace();
    rewriteManifest(path.join(workspace, 'alpha', 'ckpt-000000020'), (m) => {
      (m.metrics as Record<string, number>).loss = 0.123456789;
    });
    await settle();
    const studio = new Studio();
    try {
      const snapshot = await studio.api.openWorkspace({ path: workspace });
      expect(snapshot.checkpoints.find((c) => c.id === 'alpha/ckpt-000000020')?.metrics.loss).toBe(0.123456789);
    } finally {
      await studio.close();
    }
  });
});

describe('two processes writing the index at once', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repository, 'dist/electron/core/checkpoint/catalog-index.js')))
      throw new Error('run `npm run build` first: this test runs the built catalog');
  });

  /** A process of the built code opening the catalog `times` times, each rewriting the records it finds out of date. */
  function lister(workspace: string, times: number): Promise<void> {
    const catalog = path.join(repository, 'dist/electron/core/checkpoint/catalog.js');
    const inPlace = path.join(repository, 'dist/electron/core/checkpoint/in-place.js');
    const foreign = path.join(repository, 'dist/electron/core/formats/stored-foreign.js');
    const script = `
      const { Catalog } = await import(${JSON.stringify(catalog)});
      const { NO_IN_PLACE_LAYOUTS } = await import(${JSON.stringify(inPlace)});
      const { storedForeignParts } = await import(${JSON.stringify(foreign)});
      const fs = await import('node:fs');
      for (let i = 0; i < ${times}; i += 1) {
        // Each open finds the records gone, or being replaced by the other process, and writes them all.
        // (The other process may write into the folder while it is removed: ENOTEMPTY, and this open finds some records.)
        try {
          fs.rmSync(${JSON.stringify(path.join(workspace, '.studio', 'catalog'))}, { recursive: true, force: true });
        } catch {}
        const c = await Catalog.open(${JSON.stringify(workspace)}, storedForeignParts, NO_IN_PLACE_LAYOUTS);
        if (c.list().length !== 12) throw new Error('listed ' + c.list().length);
        await c.settled();
      }`;
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, CHECKPOINT_STUDIO_INDEX_SETTLE_MS: String(SETTLE_MS) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lister exited ${code}: ${stderr}`))));
    });
  }

  it('leave a usable index', { timeout: 60_000 }, async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    for (const run of ['a', 'b', 'c', 'd']) {
      const writer = await store.createRun(run, { parent: null, config: {} });
      for (const step of [1, 2, 3]) await writer.save(trainingState(step));
      await writer.close();
    }
    await settle();
    await Promise.all([lister(root, 15), lister(root, 15)]);
    // Whatever the race left is whole records or nothing: the next open lists the truth, then the index is whole.
    await (await listedBothWays(root)).indexed.settled();
    const { read } = await listedBothWays(root);
    expect(read).toBe(0);
    expect(fs.readdirSync(path.join(root, '.studio')).filter(isTemporaryName)).toEqual([]);
  });
});

describe('identities of many paths at once', () => {
  it('are those of each path, in order, when a worker takes half of them', async () => {
    const { base } = makeWorkspace();
    const files = [0, 1, 2].map((i) => path.join(base, `file-${i}`));
    files.forEach((file, i) => fs.writeFileSync(file, 'x'.repeat(i + 1)));
    // Enough paths for the batch to be split with a worker; every fourth one names nothing.
    const paths = Array.from({ length: 24_000 }, (_, i) => (i % 4 === 3 ? path.join(base, 'missing') : (files[i % 4] as string)));
    const identities = await identitiesOf(paths);
    const expected = new Float64Array(paths.length * 4);
    fillIdentities(paths, expected);
    expect(identities).toEqual(expected);
    expect(identities[4 * 2 + 1]).toBe(3);
    expect(Number.isNaN(identities[4 * 23_999])).toBe(true);
  });

  it("are each batch's own, in order, when batches of any size are queued and a worker takes some", async () => {
    const { base } = makeWorkspace();
    const files = [0, 1, 2].map((i) => path.join(base, `file-${i}`));
    files.forEach((file, i) => fs.writeFileSync(file, 'x'.repeat(i + 1)));
    // Sizes around a group's (2,048 paths): batches within one group, across two, across several, and empty.
    const sizes = [1, 0, 2047, 2, 5000, 300, 2048, 7000, 13, 4096];
    const batches = sizes.map((size, b) =>
      Array.from({ length: size }, (_, i) => ((i + b) % 4 === 3 ? path.join(base, 'missing') : (files[(i + b) % 4] as string))),
    );
    const queue = new StatQueue();
    const slots = batches.map((paths) => queue.add(paths));
    const identities = await queue.finish();
    batches.forEach((paths, b) => {
      const expected = new Float64Array(paths.length * 4);
      fillIdentities(paths, expected);
      expect(identities[slots[b] as number]).toEqual(expected);
    });
  });

  it('are those of each path and then of each path with a suffix, in order, when a queue states both', async () => {
    const { base } = makeWorkspace();
    const dirs = [0, 1, 2].map((i) => path.join(base, `dir-${i}`));
    dirs.forEach((dir, i) => {
      fs.mkdirSync(dir);
      if (i !== 1) fs.writeFileSync(path.join(dir, 'manifest.json'), 'x'.repeat(i + 1));
    });
    // Enough for a worker; batches of several sizes, some across groups; a missing folder now and then.
    const sizes = [5, 3000, 1, 9000, 700];
    const batches = sizes.map((size, b) =>
      Array.from({ length: size }, (_, i) => ((i + b) % 5 === 4 ? path.join(base, 'missing') : (dirs[(i + b) % 3] as string))),
    );
    const queue = new StatQueue({ suffixes: ['', `${path.sep}manifest.json`] });
    const slots = batches.map((paths) => queue.add(paths));
    const identities = await queue.finish();
    batches.forEach((paths, b) => {
      const both = paths.flatMap((dir) => [dir, path.join(dir, 'manifest.json')]);
      const expected = new Float64Array(both.length * 4);
      fillIdentities(both, expected);
      expect(identities[slots[b] as number]).toEqual(expected);
    });
  });

  it('in the background, are left to a live worker: this thread fills none', async () => {
    const { base } = makeWorkspace();
    const paths = Array.from({ length: 9_000 }, (_, i) => path.join(base, `file-${i}`));
    // A helper that fills every group it is given with sevens, one at a time: whatever this thread filled would be real stats (NaN: nothing there).
    const helper = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', ({ out, state }) => { if (Atomics.compareExchange(state, 0, 0, 1) === 0) { out.fill(7); Atomics.store(state, 0, 2); } parentPort.postMessage('done'); });`,
      { eval: true },
    );
    const queue = new StatQueue({ helper, background: true });
    queue.add(paths);
    const identities = (await queue.finish())[0] as Float64Array;
    expect(identities).toEqual(new Float64Array(paths.length * 4).fill(7));
  });

  it.each([false, true])('are all there when the worker dies holding a group it claimed (in the background: %s)', async (background) => {
    const { base } = makeWorkspace();
    const file = path.join(base, 'file');
    fs.writeFileSync(file, 'xy');
    const paths = Array.from({ length: 3_000 }, (_, i) => (i % 2 === 0 ? file : path.join(base, 'missing')));
    // A helper that claims the first group, then dies before filling it.
    const dying = new Worker(`require('node:worker_threads').parentPort.once('message', ({ state }) => { Atomics.store(state, 0, 1); process.exit(1); });`, {
      eval: true,
    });
    const exited = new Promise((resolve) => dying.once('exit', resolve));
    const queue = new StatQueue({ helper: dying, background });
    queue.add(paths);
    await exited;
    const identities = (await queue.finish())[0] as Float64Array;
    const expected = new Float64Array(paths.length * 4);
    fillIdentities(paths, expected);
    expect(identities).toEqual(expected);
    expect(identities[1]).toBe(2);
  });
});
