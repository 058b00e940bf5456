// A checkpoint whose optimizer file went missing after it was listed (issue 17): the watchers do
// not look inside checkpoint folders, so the listing kept saying "unverified" until Verify ran.
// checkFiles stats the files of the checkpoints in view (no hashing) and the listing says damaged,
// naming the missing file, to every client at once (catalog:changed).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIMIZER_FILE } from '../../electron/core/checkpoint/layout.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { nextEvent, openStudio } from '../in-place/in-place-helpers.js';
import { makeTempWorkspace, trainingState, useTempWorkspaces } from '../store/helpers.js';

useTempWorkspaces();

describe('checkFiles', () => {
  it('lists a checkpoint missing its optimizer file as damaged without Verify, and leaves whole ones as they were', async () => {
    const { root } = makeTempWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('base', { parent: null, config: {} });
    for (const step of [10, 20]) await writer.save(trainingState(step));
    await writer.close();
    const { api } = await openStudio(root, { watch: true });
    const [first, second] = await api.listCheckpoints({ run: 'base' });
    expect([first?.status, second?.status]).toEqual(['unverified', 'unverified']);

    const missing = path.join(first?.path ?? '', OPTIMIZER_FILE);
    fs.rmSync(missing);
    // Nothing watches inside a checkpoint's folder: without a check, the listing still says unverified.
    expect((await api.listCheckpoints({ run: 'base' }))[0]?.status).toBe('unverified');

    const changed = nextEvent(api, 'catalog:changed', (c) => c.id === first?.id);
    const checked = await api.checkFiles({ ids: [first?.id ?? '', second?.id ?? '', 'base/no-such'] });
    expect(checked.map((c) => [c.id, c.status])).toEqual([
      [first?.id, 'damaged'],
      [second?.id, 'unverified'],
    ]);
    expect(checked[0]?.statusReason).toBe(`${missing}: missing`);
    expect((await changed).status).toBe('damaged');
    expect((await api.listCheckpoints({ run: 'base' }))[0]?.status).toBe('damaged');
  });
});
