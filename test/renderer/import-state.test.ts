// ImportState: what is given is described first (nothing imported), then imported as chosen:
// copied, or linked in place only for real paths; only its own import's progress is followed and
// Cancel reaches the Studio. A typed relative path is refused before any call; an upload is named
// as dropped and discarded on Cancel. And the pure helpers: a picked folder's real path, the
// folder loose files go up in, a typed path's check, the found step's summary.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ImportReport, SourceDescription } from '../../renderer/src/lib/contract';
import { looseFolderName, realFolderPath, takeChosen, takeFiles } from '../../renderer/src/lib/folder-upload';
import { summariseFound } from '../../renderer/src/lib/found-summary';
import { typedPathProblem } from '../../renderer/src/lib/typed-path';
import { ImportState } from '../../renderer/src/state/import-state.svelte';
import { FakeStudio } from './fakes';

function picked(relative: string): File {
  const file = new File(['x'], relative.split('/').pop() ?? relative);
  Object.defineProperty(file, 'webkitRelativePath', { value: relative });
  return file;
}

const tfFound = (source: string): SourceDescription => ({
  ok: true,
  source,
  format: 'tf-checkpoint',
  formatLabel: 'TensorFlow checkpoint',
  checkpoints: [{ name: 'export', step: 123, stepSource: 'global_step', tensors: 4, bytes: 2048, metrics: {}, latest: true }],
  notes: [],
});

afterEach(() => vi.unstubAllGlobals());

describe('ImportState', () => {
  it('describes real paths first, links them in place when asked, shows only its own progress, and cancels through the Studio', async () => {
    const fake = new FakeStudio();
    let release: (report: ImportReport) => void = () => undefined;
    let importId = '';
    fake.handle('describeSources', (params) => (params?.sources ?? []).map(tfFound));
    fake.handle('importFolders', (params) => {
      importId = params?.importId ?? '';
      return new Promise<ImportReport>((resolve) => (release = resolve));
    });
    fake.handle('cancelImport', () => ({ cancelled: true }));
    const paths = new Map<File, string>();
    const state = new ImportState(fake.api, { kind: 'path', pathFor: (file) => paths.get(file) ?? '' });
    const file = picked('alpha/ckpt-000000100/manifest.json');
    paths.set(file, '/data/runs/alpha/ckpt-000000100/manifest.json');
    const loose = new File(['x'], 'f.safetensors');
    paths.set(loose, '/data/hf/f.safetensors');
    await state.take(takeChosen([file]), takeFiles([loose]));
    expect(fake.calls.map((c) => c.method)).toEqual(['describeSources']);
    expect(fake.calls[0]?.params).toEqual({ sources: ['/data/runs/alpha', '/data/hf/f.safetensors'] });
    expect(state.stage).toBe('found');
    expect(state.linkable).toBe(true);
    expect(state.found.map((f) => f.source)).toEqual(['/data/runs/alpha', '/data/hf/f.safetensors']);

    const running = state.confirm('link');
    await Promise.resolve();
    expect(fake.calls.find((c) => c.method === 'importFolders')?.params).toEqual({
      sources: ['/data/runs/alpha', '/data/hf/f.safetensors'],
      importId,
      mode: 'link',
    });
    expect(state.busy).toBe(true);
    fake.emit('import:progress', { importId: 'someone-else', source: '/x/other', phase: 'copying', bytesDone: 1, bytesTotal: 9 });
    expect(state.progress).toBeNull();
    fake.emit('import:progress', { importId, source: '/data/runs/alpha', phase: 'copying', bytesDone: 50, bytesTotal: 200 });
    expect(state.stage).toBe('copying');
    expect(state.progress).toEqual({ label: 'alpha', done: 50, total: 200 });
    state.cancel();
    expect(fake.calls.find((c) => c.method === 'cancelImport')?.params).toEqual({ importId });
    release({
      importId,
      cancelled: true,
      results: [{ ok: false, source: '/data/runs/alpha', format: 'checkpoint-studio run', error: { code: 'refused', message: 'cancelled' } }],
    });
    await running;
    expect(state.stage).toBe('finished');
    expect(state.cancelled).toBe(true);
    state.close();
    expect(state.stage).toBe('idle');
  });

  it('refuses a typed relative path before any call, and imports only the sources the Studio could read', async () => {
    const fake = new FakeStudio();
    fake.handle('describeSources', () => [
      tfFound('/data/tf/export'),
      { ok: false, source: '/data/notes.txt', error: { code: 'damaged', message: '/data/notes.txt: not a checkpoint of any format the Studio reads' } },
    ]);
    fake.handle('importFolders', (params) => ({ importId: params?.importId ?? '', cancelled: false, results: [] }));
    const state = new ImportState(fake.api, { kind: 'upload' });
    state.open();
    expect(state.stage).toBe('start');
    await state.fromPath('runs/alpha');
    expect(state.pathError).toMatch(/^runs\/alpha: not an absolute path/);
    expect(state.stage).toBe('start');
    expect(fake.calls).toEqual([]);
    // Browser mode, yet a typed path is a real path on the Studio's machine: it may be linked.
    await state.fromPath('  /data/tf/export  ');
    expect(state.pathError).toBeNull();
    expect(fake.calls[0]?.params).toEqual({ sources: ['/data/tf/export'] });
    expect(state.linkable).toBe(true);
    expect(state.importable).toBe(true);
    await state.confirm('copy');
    expect(fake.calls[1]).toEqual({ method: 'importFolders', params: { sources: ['/data/tf/export'], importId: expect.any(String) } });
  });

  it('uploads loose files together, names them as dropped, never links an upload, and discards it on Cancel', async () => {
    const requests: { method: string; url: string }[] = [];
    vi.stubGlobal('fetch', async (url: string, init: { method: string }) => {
      requests.push({ method: init.method, url });
      const folder = `/tmp/uploads/${url.split('/')[2]}/${decodeURIComponent(url.split('/')[3] ?? '')}`;
      return new Response(JSON.stringify({ folder }), { status: init.method === 'PUT' ? 201 : 200 });
    });
    const fake = new FakeStudio();
    fake.handle('describeSources', (params) => (params?.sources ?? []).map((s) => ({ ...tfFound(s), notes: [`${s}: the step was read from the file name`] })));
    const state = new ImportState(fake.api, { kind: 'upload' });
    await state.take([], takeFiles([new File(['x'], 'f.safetensors')]));
    const uploadId = requests[0]?.url.split('/')[2] ?? '';
    expect(requests).toEqual([{ method: 'PUT', url: `/upload/${uploadId}/f/f.safetensors` }]);
    // The one file itself is described, by the path the server staged it at.
    expect(fake.calls[0]?.params).toEqual({ sources: [`/tmp/uploads/${uploadId}/f/f.safetensors`] });
    expect(state.found.map((f) => f.source)).toEqual(['f.safetensors']);
    expect(state.found[0]?.ok && state.found[0].notes).toEqual(['f.safetensors: the step was read from the file name']);
    expect(state.linkable).toBe(false);
    await expect(state.confirm('link')).rejects.toThrow(/cannot be linked/);
    expect(fake.calls.some((c) => c.method === 'importFolders')).toBe(false);
    state.cancel();
    expect(state.stage).toBe('idle');
    await vi.waitFor(() => expect(requests.at(-1)).toEqual({ method: 'DELETE', url: `/upload/${uploadId}` }));
  });
});

describe('picked folders and files', () => {
  it("groups a picker's files by their top folder and finds the folder's real path", () => {
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

  it("names the folder loose files go up in after the file that names the model, never a dropped folder's name", () => {
    const named = (...names: string[]) => takeFiles(names.map((n) => new File(['x'], n)));
    expect(looseFolderName(named('group1-shard1of1.bin', 'model.json'), [])).toBe('model');
    expect(looseFolderName(named('export.data-00000-of-00001', 'export.index'), [])).toBe('export');
    expect(looseFolderName(named('model.weights.h5'), [])).toBe('model');
    expect(looseFolderName(named('f.safetensors'), ['f', 'f-2'])).toBe('f-3');
    expect(looseFolderName(named('..'), [])).toBe('dropped-files');
  });
});

describe('typed paths', () => {
  it('accepts absolute paths only, saying why not', () => {
    expect(typedPathProblem('/data/x')).toBeNull();
    expect(typedPathProblem('C:\\data\\x')).toBeNull();
    expect(typedPathProblem('\\\\server\\share')).toBeNull();
    expect(typedPathProblem('data/x')).toMatch(/^data\/x: not an absolute path/);
    expect(typedPathProblem('~/x')).toMatch(/"~" is not expanded/);
    expect(typedPathProblem('   ')).toMatch(/type the full path/);
  });
});

describe('found summary', () => {
  it('gives the step range with the latest marked, tensors and size', () => {
    const found = tfFound('/x');
    if (!found.ok) throw new Error('not found');
    const three = {
      ...found,
      checkpoints: [
        { ...found.checkpoints[0]!, name: 'ckpt-1', step: 100, latest: false },
        { ...found.checkpoints[0]!, name: 'ckpt-3', step: 300, latest: false },
        { ...found.checkpoints[0]!, name: 'ckpt-2', step: 200, latest: true },
      ],
    };
    const summary = summariseFound(three, 2);
    expect(summary.checkpoints).toBe('3 checkpoints · steps 100–300, latest 200');
    expect(summary.contents).toBe('12 tensors · 6.1 KB');
    expect(summary.steps).toEqual([
      { label: '100', latest: false },
      { label: '300', latest: false },
    ]);
    expect(summary.more).toBe(1);
    const one = summariseFound(found);
    expect(one.checkpoints).toBe('1 checkpoint · step 123');
    expect(one.steps).toEqual([]);
    // Our own folders are not counted in tensors: only the size is said.
    expect(summariseFound({ ...found, checkpoints: [{ ...found.checkpoints[0]!, tensors: 0, step: null }] }).contents).toBe('2.0 KB');
  });
});
