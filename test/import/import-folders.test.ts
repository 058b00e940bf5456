// importFolders through the StudioApi: our run and checkpoint folders import, verified, with
// origin `imported`; anything damaged, linked or colliding is refused naming the file, and a
// refused or cancelled import leaves the workspace byte-identical and the source untouched.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImportProgress } from '../../electron/contract.js';
import { hostTag, parseTemporaryName } from '../../electron/core/base/temporaries.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { flipLastByte, sourceWorkspace, studioWith, treeHash } from './import-helpers.js';

useTempWorkspaces();

describe('importFolders', () => {
  it('imports a run folder as a new run: every checkpoint verified, origin imported, the log kept, the source unchanged', async () => {
    const source = path.join(await sourceWorkspace({ alpha: [100, 200] }), 'alpha');
    const before = treeHash(source);
    const { api, root } = await studioWith();
    const report = await api.importFolders({ sources: [source] });
    expect(report.results).toEqual([
      {
        ok: true,
        source,
        format: 'checkpoint-studio run',
        run: 'alpha',
        newRun: true,
        checkpoints: ['alpha/ckpt-000000100', 'alpha/ckpt-000000200'],
        notes: [],
      },
    ]);
    // Nothing of the staging is left behind: .studio holds only the record of what was verified.
    expect(fs.readdirSync(path.join(root, '.studio')).filter((name) => name !== 'verified.lock')).toEqual(['verified.json']);
    const listed = await api.listCheckpoints({ run: 'alpha' });
    expect(listed.map((c) => [c.step, c.origin, c.status])).toEqual([
      [100, 'imported', 'verified'],
      [200, 'imported', 'verified'],
    ]);
    const verify = await api.verify({ targets: ['alpha/ckpt-000000100', 'alpha/ckpt-000000200'] });
    expect(verify.results.every((r) => r.ok)).toBe(true);
    expect(fs.readFileSync(path.join(root, 'alpha', 'metrics.jsonl'), 'utf8')).toBe(fs.readFileSync(path.join(source, 'metrics.jsonl'), 'utf8'));
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'alpha', 'ckpt-000000200', 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.origin).toBe('imported');
    expect(manifest.imported).toMatchObject({ source: path.join(source, 'ckpt-000000200'), run: 'alpha', origin: 'trained' });
    expect((await api.runConfig({ run: 'alpha' })).config).toEqual({ model: 'mlp' });
    expect(treeHash(source)).toBe(before);
  });

  it('imports a checkpoint folder into the run "imported" (created), or into the run named by into', async () => {
    const sourceRoot = await sourceWorkspace({ beta: [300, 400] });
    const { api } = await studioWith({ alpha: [100] });
    const first = await api.importFolders({ sources: [path.join(sourceRoot, 'beta', 'ckpt-000000300')] });
    expect(first.results[0]).toMatchObject({
      ok: true,
      format: 'checkpoint-studio checkpoint',
      run: 'imported',
      newRun: true,
      checkpoints: ['imported/ckpt-000000300'],
    });
    const second = await api.importFolders({ sources: [path.join(sourceRoot, 'beta', 'ckpt-000000400')], into: 'alpha' });
    expect(second.results[0]).toMatchObject({ ok: true, run: 'alpha', newRun: false, checkpoints: ['alpha/ckpt-000000400'] });
    // Verified from the copy before placing: listed as verified without a second read; the alpha/100 it did not touch stays unverified.
    expect((await api.listCheckpoints({ run: 'alpha' })).map((c) => [c.step, c.origin, c.status])).toEqual([
      [100, 'trained', 'unverified'],
      [400, 'imported', 'verified'],
    ]);
    expect((await api.verify({ targets: ['imported/ckpt-000000300', 'alpha/ckpt-000000400'] })).results.map((r) => r.ok)).toEqual([true, true]);
  });

  it('names a run that collides <name>-2, and refuses a step the run already holds', async () => {
    const sourceRoot = await sourceWorkspace({ alpha: [100] });
    const { api, root } = await studioWith({ alpha: [100] });
    const report = await api.importFolders({ sources: [path.join(sourceRoot, 'alpha')] });
    expect(report.results[0]).toMatchObject({ ok: true, run: 'alpha-2', notes: ['imported as run "alpha-2": the workspace already has a run "alpha"'] });
    const before = treeHash(root);
    const again = await api.importFolders({ sources: [path.join(sourceRoot, 'alpha', 'ckpt-000000100')], into: 'alpha' });
    expect(again.results[0]).toMatchObject({ ok: false, error: { code: 'refused' } });
    expect(again.results[0]?.ok === false && again.results[0].error.message).toContain('already holds step 100');
    expect(treeHash(root)).toBe(before);
  });

  const damages: [string, (ckpt: string) => void, string][] = [
    ['a flipped byte in a safetensors file', (ckpt) => flipLastByte(path.join(ckpt, 'optimizer.safetensors')), 'optimizer.safetensors: tensor'],
    ['a removed file', (ckpt) => fs.rmSync(path.join(ckpt, 'model.safetensors')), 'model.safetensors: missing'],
    ['a truncated manifest', (ckpt) => fs.truncateSync(path.join(ckpt, 'manifest.json'), 40), 'manifest.json: not valid JSON'],
  ];
  for (const [what, damage, expected] of damages) {
    it(`refuses a run with ${what}, naming the source's file, and changes nothing`, async () => {
      const sourceRoot = await sourceWorkspace({ alpha: [100, 200] });
      const ckpt = path.join(sourceRoot, 'alpha', 'ckpt-000000200');
      damage(ckpt);
      const sourceBefore = treeHash(sourceRoot);
      const { api, root } = await studioWith({ beta: [100] });
      const before = treeHash(root);
      const report = await api.importFolders({ sources: [path.join(sourceRoot, 'alpha'), ckpt] });
      for (const result of report.results) {
        expect(result.ok).toBe(false);
        if (result.ok) continue;
        expect(result.error.code).toBe('damaged');
        expect(result.error.message).toContain(path.join(ckpt, expected));
      }
      expect(treeHash(root)).toBe(before);
      expect(treeHash(sourceRoot)).toBe(sourceBefore);
      expect((await api.listRuns()).map((r) => r.name)).toEqual(['beta']);
    });
  }

  it('refuses a source holding a symbolic link, and a folder that is not ours', async () => {
    const sourceRoot = await sourceWorkspace({ alpha: [100] });
    const ckpt = path.join(sourceRoot, 'alpha', 'ckpt-000000100');
    fs.renameSync(path.join(ckpt, 'model.safetensors'), path.join(sourceRoot, 'model.safetensors'));
    fs.symlinkSync(path.join(sourceRoot, 'model.safetensors'), path.join(ckpt, 'model.safetensors'));
    const odd = path.join(sourceRoot, 'notes');
    fs.mkdirSync(odd);
    fs.writeFileSync(path.join(odd, 'readme.txt'), 'hello');
    const { api, root } = await studioWith();
    const before = treeHash(root);
    const report = await api.importFolders({ sources: [path.join(sourceRoot, 'alpha'), odd, 'relative/path'] });
    expect(report.results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['refused', 'refused', 'refused']);
    const messages = report.results.map((r) => (r.ok ? '' : r.error.message));
    expect(messages[0]).toContain(`${path.join(ckpt, 'model.safetensors')}: refused: is a symbolic link`);
    expect(messages[1]).toContain('not something this program can import');
    expect(messages[2]).toContain('not an absolute path');
    expect(treeHash(root)).toBe(before);
  });

  it('keeps lineage only when the parent is in this workspace, and says when it drops it', async () => {
    const sourceRoot = await sourceWorkspace({ child: [150] }, { run: 'base', step: 100 });
    const { api } = await studioWith();
    const dropped = await api.importFolders({ sources: [path.join(sourceRoot, 'child')] });
    expect(dropped.results[0]?.ok && dropped.results[0].notes.join('\n')).toContain('lineage dropped');
    expect((await api.listCheckpoints({ run: 'child' }))[0]?.parent).toBeNull();

    const { api: withBase } = await studioWith({ base: [100] });
    const kept = await withBase.importFolders({ sources: [path.join(sourceRoot, 'child')] });
    expect(kept.results[0]).toMatchObject({ ok: true, notes: [] });
    expect((await withBase.listCheckpoints({ run: 'child' }))[0]?.parent).toEqual({ run: 'base', step: 100 });
    expect((await withBase.runConfig({ run: 'child' })).parent).toEqual({ run: 'base', step: 100 });
  });

  it("reports progress under the client's import id, and a cancel mid-import leaves nothing", async () => {
    const sourceRoot = await sourceWorkspace({ alpha: [100, 200, 300] });
    const { api, root } = await studioWith({ beta: [100] });
    const before = treeHash(root);
    const seen: ImportProgress[] = [];
    api.on('import:progress', (progress) => {
      seen.push(progress);
      // Cancel as soon as the first bytes are copied: the copy is in flight.
      if (progress.phase === 'copying' && progress.bytesDone > 0 && seen.filter((p) => p.phase === 'copying' && p.bytesDone > 0).length === 1)
        void api.cancelImport({ importId: 'abc-1' });
    });
    const report = await api.importFolders({ sources: [path.join(sourceRoot, 'alpha'), path.join(sourceRoot, 'alpha', 'ckpt-000000100')], importId: 'abc-1' });
    expect(report.cancelled).toBe(true);
    expect(report.results.map((r) => r.ok)).toEqual([false, false]);
    expect(report.results[0]?.ok === false && report.results[0].error.message).toContain('import cancelled');
    expect(seen.every((p) => p.importId === 'abc-1')).toBe(true);
    expect(seen.some((p) => p.phase === 'copying')).toBe(true);
    expect(seen.some((p) => p.phase === 'placing' || p.phase === 'done')).toBe(false);
    expect(treeHash(root)).toBe(before);
    expect((await api.cancelImport({ importId: 'abc-1' })).cancelled).toBe(false);

    const done: ImportProgress[] = [];
    api.on('import:progress', (p) => done.push(p));
    await api.importFolders({ sources: [path.join(sourceRoot, 'alpha')], importId: 'abc-2' });
    const last = done.at(-1);
    expect(last).toMatchObject({ importId: 'abc-2', phase: 'done' });
    expect(last?.bytesTotal).toBeGreaterThan(0);
    expect(done.map((p) => p.phase)).toEqual(expect.arrayContaining(['reading', 'copying', 'verifying', 'placing', 'done']));
  });

  it('stages in .studio under our temporary name, so a crash leaves what the next writer clears', async () => {
    const sourceRoot = await sourceWorkspace({ alpha: [100] });
    const { api, root } = await studioWith();
    const staged: string[] = [];
    api.on('import:progress', (p) => {
      if (p.phase === 'copying') staged.push(...fs.readdirSync(path.join(root, '.studio')));
    });
    await api.importFolders({ sources: [path.join(sourceRoot, 'alpha')] });
    const owners = [...new Set(staged)].map((name) => parseTemporaryName(name));
    expect(owners).toEqual([{ host: hostTag(), pid: process.pid, label: 'import' }]);
  });

  it('refuses on a read-only workspace', async () => {
    const sourceRoot = await sourceWorkspace({ alpha: [100] });
    const { api, root } = await studioWith({ beta: [100] });
    await api.openWorkspace({ path: root, readOnly: true });
    await expect(api.importFolders({ sources: [path.join(sourceRoot, 'alpha')] })).rejects.toMatchObject({ code: 'usage' });
  });
});
