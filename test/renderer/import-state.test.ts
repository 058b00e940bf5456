// ImportState: the desktop app imports folders by their real paths, follows only its own
// import's progress events, and Cancel reaches the Studio; a dropped file is refused before any
// call. And how a picked folder's real path and grouping are read from what the picker gives.
import { describe, expect, it } from 'vitest';
import type { ImportReport } from '../../renderer/src/lib/contract';
import { realFolderPath, takeChosen } from '../../renderer/src/lib/folder-upload';
import { ImportState } from '../../renderer/src/state/import-state.svelte';
import { FakeStudio } from './fakes';

function picked(relative: string): File {
  const file = new File(['x'], relative.split('/').pop() ?? relative);
  Object.defineProperty(file, 'webkitRelativePath', { value: relative });
  return file;
}

describe('ImportState', () => {
  it('imports by real path, shows only its own progress, and cancels through the Studio', async () => {
    const fake = new FakeStudio();
    let release: (report: ImportReport) => void = () => undefined;
    let importId = '';
    fake.handle('importFolders', (params) => {
      importId = params?.importId ?? '';
      return new Promise<ImportReport>((resolve) => (release = resolve));
    });
    fake.handle('cancelImport', () => ({ cancelled: true }));
    const paths = new Map<File, string>();
    const state = new ImportState(fake.api, { kind: 'path', pathFor: (file) => paths.get(file) ?? '' });
    const file = picked('alpha/ckpt-000000100/manifest.json');
    paths.set(file, '/data/runs/alpha/ckpt-000000100/manifest.json');
    const running = state.importFolders(takeChosen([file]));
    await Promise.resolve();
    expect(fake.calls.find((c) => c.method === 'importFolders')?.params).toEqual({ sources: ['/data/runs/alpha'], importId });
    expect(state.busy).toBe(true);
    fake.emit('import:progress', { importId: 'someone-else', source: '/x/other', phase: 'copying', bytesDone: 1, bytesTotal: 9 });
    expect(state.progress).toBeNull();
    fake.emit('import:progress', { importId, source: '/data/runs/alpha', phase: 'copying', bytesDone: 50, bytesTotal: 200 });
    expect(state.stage).toBe('copying');
    expect(state.progress).toEqual({ label: 'alpha', done: 50, total: 200 });
    state.cancel();
    expect(fake.calls.find((c) => c.method === 'cancelImport')?.params).toEqual({ importId });
    release({ importId, cancelled: true, results: [{ ok: false, source: '/data/runs/alpha', format: 'checkpoint-studio run', error: { code: 'refused', message: 'cancelled' } }] });
    await running;
    expect(state.stage).toBe('finished');
    expect(state.cancelled).toBe(true);
    state.close();
    expect(state.stage).toBe('idle');
  });

  it('refuses a dropped file without calling the Studio', async () => {
    const fake = new FakeStudio();
    const state = new ImportState(fake.api, { kind: 'upload' });
    await state.importFolders([], [{ name: 'notes.txt' }]);
    expect(state.problems).toEqual(['notes.txt: not a folder; drop or choose a checkpoint folder or a run folder']);
    expect(fake.calls).toEqual([]);
  });
});

describe('picked folders', () => {
  it('groups a picker\'s files by their top folder and finds the folder\'s real path', () => {
    const a = picked('alpha/run.json');
    const b = picked('alpha/ckpt-1/manifest.json');
    const folders = takeChosen([a, b]);
    expect(folders.map((f) => [f.name, f.files.map((x) => x.path)])).toEqual([['alpha', ['alpha/run.json', 'alpha/ckpt-1/manifest.json']]]);
    const folder = folders[0];
    if (!folder) throw new Error('no folder');
    expect(realFolderPath(folder, () => '/home/me/alpha/run.json')).toBe('/home/me/alpha');
    expect(realFolderPath(folder, () => 'C:\\runs\\alpha\\run.json')).toBe('C:\\runs\\alpha');
    // A path that does not end in what the picker said is not guessed at.
    expect(realFolderPath(folder, () => '/elsewhere/other.json')).toBeNull();
    expect(realFolderPath(folder, () => '')).toBeNull();
  });
});
