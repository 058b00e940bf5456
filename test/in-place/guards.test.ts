// What keeps a deletion in another program's folder safe (issue 16): the quiet period (another
// program may be writing), the state file re-read before it is replaced (refused if it changed,
// nothing moved), symbolic links never followed, pins and lineage respected, and nothing outside
// the opened folder touched.
//
// Another program's write at the worst moment is staged two ways, both deterministic: a layout
// wrapper that writes the state file right after the rewrite was computed (the store's own seam),
// and a hook in node:fs/promises' rename that writes it while the group's files are being moved
// into the trash (between the first check and the replacement).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { InPlaceLayouts } from '../../electron/core/checkpoint/in-place.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { RefusedError } from '../../electron/core/base/errors.js';
import { createInPlaceLayouts } from '../../electron/core/layouts/in-place-layouts.js';
import { onCleanup, trainingState, useTempWorkspaces } from '../store/helpers.js';
import { HOUR_MS, TUTORIAL_STEPS, failureOf, folderRecord, groupFiles, namesIn, openStudio, saverStateText, tutorialFolder } from './in-place-helpers.js';

/** Called before each rename (from, to); a test sets it to act in the middle of a deletion. */
const hooks = vi.hoisted(() => ({ beforeRename: null as ((from: string, to: string) => void) | null }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const rename = (from: string, to: string): Promise<void> => {
    hooks.beforeRename?.(String(from), String(to));
    return real.rename(from, to);
  };
  return { ...real, rename, default: { ...real, rename } };
});

useTempWorkspaces();

const STATE = 'checkpoint';
const models = (steps: readonly number[]): string[] => steps.map((s) => `model-${s}`);
/** What a Saver still running would write next: its new save at step 11000. */
const SAVER_AGAIN = saverStateText('model-11000', models([...TUTORIAL_STEPS, 11000]));

/** Every name of the folder but the store's own folders: what a refused change must leave as it was. */
function folderFiles(root: string): Map<string, string> {
  const record = folderRecord(root, { skip: ['.studio', '.trash'] });
  record.delete('');
  return record;
}

async function storeWith(root: string, layouts: InPlaceLayouts, quietMs = 10_000): Promise<CheckpointStore> {
  const store = await CheckpointStore.open(root, { access: 'write', layouts, quietMs });
  return store;
}

describe('the quiet period', () => {
  it('refuses while a file changed a second ago, naming the folder and "busy"; a quiet period of 0 lets it go', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const justNow = new Date(Date.now() - 1000);
    fs.utimesSync(path.join(root, 'model-9000.meta'), justNow, justNow);
    const before = folderFiles(root);
    const { api } = await openStudio(root);
    const busy = await failureOf(api.deleteCheckpoints({ targets: ['model-1000'] }));
    expect(busy.code).toBe('refused');
    expect(busy.message).toMatch(
      new RegExp(`^${fs.realpathSync(root)}: refused: busy: model-9000\\.meta changed [12] s ago, so another program may be writing here; nothing was changed`),
    );
    expect((await failureOf(api.makeLatest({ target: 'model-1000' }))).message).toContain(': refused: busy:');
    expect(folderFiles(root)).toEqual(before);
    expect((await api.listTrash()).entries).toEqual([]);

    // The setting, changed while the workspace is open, applies at once.
    await api.updateSettings({ quietSeconds: 0 });
    expect((await api.deleteCheckpoints({ targets: ['model-1000'] })).map((e) => e.checkpointId)).toEqual(['model-1000']);
  });

  it('--quiet-seconds 0 (openWorkspace quietSeconds) lets a fresh folder be changed', async () => {
    const root = tutorialFolder(0);
    if (root === null) return;
    const { api } = await openStudio(root, { quietSeconds: 0 });
    await api.deleteCheckpoints({ targets: ['model-1000'] });
    await api.makeLatest({ target: 'model-2000' });
    expect(fs.readFileSync(path.join(root, STATE), 'utf8')).toBe(saverStateText('model-2000', [...models(TUTORIAL_STEPS.slice(2)), 'model-2000']));
  });
});

describe('a state file another program changes meanwhile', () => {
  it('written right after the rewrite was computed: refused, naming it, nothing moved, no empty batch left', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const layouts = createInPlaceLayouts();
    const racing: InPlaceLayouts = {
      ...layouts,
      async rewritesForDelete(dir, run, names) {
        const rewrites = await layouts.rewritesForDelete(dir, run, names);
        fs.writeFileSync(path.join(dir, STATE), SAVER_AGAIN);
        return rewrites;
      },
    };
    const store = await storeWith(root, racing);
    const before = folderFiles(root);
    const refusal = await store.delete(['model-5000']).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refusal).toBeInstanceOf(RefusedError);
    expect((refusal as RefusedError).message).toBe(
      `${path.join(store.root, STATE)}: refused: changed while the deletion was being prepared (another program wrote it); nothing was changed`,
    );
    // Nothing moved; the state file holds what the other program wrote.
    const after = folderFiles(root);
    expect(fs.readFileSync(path.join(root, STATE), 'utf8')).toBe(SAVER_AGAIN);
    after.delete(STATE);
    before.delete(STATE);
    expect(after).toEqual(before);
    expect(await store.listTrash()).toEqual([]);
    expect(fs.existsSync(path.join(root, '.trash')) ? namesIn(path.join(root, '.trash')) : []).toEqual([]);
  });

  it('written while the group is being moved: refused, every moved file put back, the other program’s state file kept', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const store = await storeWith(root, createInPlaceLayouts());
    const before = folderFiles(root);
    // The last file of the two groups leaves: the other program saves just then.
    hooks.beforeRename = (from) => {
      if (path.basename(from) !== 'model-6000.meta' || !from.startsWith(store.root + path.sep) || from.includes('.trash')) return;
      fs.writeFileSync(path.join(root, STATE), SAVER_AGAIN);
      fs.utimesSync(path.join(root, STATE), new Date(Date.now() - HOUR_MS), new Date(Date.now() - HOUR_MS));
    };
    onCleanup(() => {
      hooks.beforeRename = null;
    });
    const refusal = await store.delete(['model-5000', 'model-6000']).then(
      () => null,
      (e: unknown) => e,
    );
    hooks.beforeRename = null;
    expect((refusal as Error).message).toBe(
      `${path.join(store.root, STATE)}: refused: changed while the deletion was being prepared (another program wrote it); nothing was changed`,
    );
    const after = folderFiles(root);
    expect(after.get(STATE)).not.toEqual(before.get(STATE));
    expect(fs.readFileSync(path.join(root, STATE), 'utf8')).toBe(SAVER_AGAIN);
    after.delete(STATE);
    before.delete(STATE);
    expect(after).toEqual(before);
    expect(await store.listTrash()).toEqual([]);
  });

  it('set-latest computed from a state file that changed before it is replaced: refused, the file left as the other program wrote it', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const layouts = createInPlaceLayouts();
    const racing: InPlaceLayouts = {
      ...layouts,
      async rewritesForLatest(dir, run, name) {
        const rewrites = await layouts.rewritesForLatest(dir, run, name);
        fs.writeFileSync(path.join(dir, STATE), SAVER_AGAIN);
        return rewrites;
      },
    };
    const store = await storeWith(root, racing);
    await expect(store.makeLatest('model-3000')).rejects.toThrow(`${path.join(store.root, STATE)}: refused: changed while`);
    expect(fs.readFileSync(path.join(root, STATE), 'utf8')).toBe(SAVER_AGAIN);
  });
});

describe('what a deletion never does', () => {
  it('never follows a symbolic link: a group whose .index is a link is refused, nothing moved, nothing outside touched', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const outside = path.join(path.dirname(root), 'outside');
    fs.mkdirSync(outside);
    fs.renameSync(path.join(root, 'model-3000.index'), path.join(outside, 'model-3000.index'));
    fs.symlinkSync(path.join(outside, 'model-3000.index'), path.join(root, 'model-3000.index'));
    const hourAgo = new Date(Date.now() - HOUR_MS);
    fs.lutimesSync(path.join(root, 'model-3000.index'), hourAgo, hourAgo);
    fs.writeFileSync(path.join(outside, 'canary'), 'left alone');
    const beforeOutside = folderRecord(outside);
    const before = folderFiles(root);
    const { api } = await openStudio(root);
    // Listed (a link to a file is read as the file), never deleted through.
    expect((await api.listCheckpoints()).find((c) => c.id === 'model-3000')?.status).toBe('unverified');
    const refusal = await failureOf(api.deleteCheckpoints({ targets: ['model-3000'] }));
    expect(refusal.message).toBe(
      `${path.join(fs.realpathSync(root), 'model-3000.index')}: refused: is a symbolic link: a deletion never follows one, so nothing was changed`,
    );
    // A batch holding it is refused whole: retention too.
    const plans = await api.planRetention({ run: '.', policy: { keepLast: 2 } });
    await failureOf(api.applyRetention({ plans }));
    expect(folderFiles(root)).toEqual(before);
    expect(folderRecord(outside)).toEqual(beforeOutside);
    expect((await api.listTrash()).entries).toEqual([]);
  });

  it('refuses a pinned checkpoint (the pin kept in .studio, never in the folder)', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const { api } = await openStudio(root);
    const before = folderFiles(root);
    expect((await api.pin({ ids: ['model-2000'] })).map((c) => [c.id, c.pinned])).toEqual([['model-2000', true]]);
    expect(folderFiles(root)).toEqual(before);
    expect(namesIn(path.join(root, '.studio'))).toContain('in-place.json');
    const refusal = await failureOf(api.deleteCheckpoints({ targets: ['model-2000', 'model-1000'] }));
    expect(refusal.message).toBe(`${path.join(fs.realpathSync(root), 'model-2000')}: refused: pinned; unpin it first`);
    // Retention keeps it, and says why.
    const [plan] = await api.planRetention({ run: '.', policy: { keepLast: 1 } });
    expect(plan?.keep.find((k) => k.id === 'model-2000')?.reasons).toContain('pinned');
    await api.unpin({ ids: ['model-2000'] });
    await api.deleteCheckpoints({ targets: ['model-2000'] });
  });

  it('refuses the parent of one of our runs (a run continued from it)', async () => {
    const root = tutorialFolder();
    if (root === null) return;
    const own = await CheckpointStore.open(root, { access: 'write' });
    const writer = await own.createRun('finetune', { parent: { run: '.', step: 4000 }, config: {} });
    await writer.save(trainingState(4100, { parent: { run: '.', step: 4000 } }));
    await writer.close();
    const { api } = await openStudio(root);
    expect((await api.listRuns()).map((r) => r.name)).toEqual(['.', 'finetune']);
    const parent = (await api.listCheckpoints({ run: '.' })).find((c) => c.id === 'model-4000');
    expect(parent?.protectedBy.map((p) => p.kind)).toEqual(['parent']);
    const refusal = await failureOf(api.deleteCheckpoints({ targets: ['model-4000'] }));
    expect(refusal.message).toBe(
      `${path.join(fs.realpathSync(root), 'model-4000')}: refused: parent of run "finetune", which continued from it; deleting it would cut that lineage (delete those runs' checkpoints first)`,
    );
    const [plan] = await api.planRetention({ run: '.', policy: { keepLast: 1 } });
    expect(plan?.delete.map((d) => d.id)).not.toContain('model-4000');
    expect(groupFiles('model-4000').every((name) => fs.existsSync(path.join(root, name)))).toBe(true);
  });
});
