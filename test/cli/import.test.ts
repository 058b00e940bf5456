// checkpoint-studio import as a user runs it: the built bin, real folders, exit codes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImportReport } from '../../electron/contract.js';
import { REPOSITORY_ROOT } from '../fixtures.js';
import { flipLastByte, sourceWorkspace, treeHash } from '../import/import-helpers.js';
import { makeTempWorkspace, useTempWorkspaces } from '../store/helpers.js';

useTempWorkspaces();
const bin = path.join(REPOSITORY_ROOT, 'bin/checkpoint-studio.js');

function cli(workspace: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args, '--workspace', workspace], { encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe('checkpoint-studio import', () => {
  it('imports a run and a checkpoint (into a named run), lists them, and says so line by line', async () => {
    const source = await sourceWorkspace({ alpha: [100, 200], beta: [300] });
    const workspace = makeTempWorkspace().root;
    const result = cli(workspace, 'import', path.join(source, 'alpha'), path.join(source, 'beta', 'ckpt-000000300'), '--into', 'loose');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // First what was found in each source, then what each became.
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^found {4}${path.join(source, 'alpha')}: a Checkpoint Studio run, 2 checkpoints \\(steps 100…200, latest ckpt-000000200\\), `),
    );
    expect(lines[1]).toMatch(/^found {4}.*ckpt-000000300: a Checkpoint Studio checkpoint, 1 checkpoint \(step 300, latest ckpt-000000300\)/);
    expect(lines.slice(2).join('\n')).toBe(
      `imported ${path.join(source, 'alpha')} -> 2 checkpoints into run loose (new run)\n` +
        `imported ${path.join(source, 'beta', 'ckpt-000000300')} -> loose/ckpt-000000300\n`,
    );
    // --into names the new run for a run folder and the run for loose checkpoints: here the first took it, so the second went in.
    const listed = cli(workspace, 'ls', '--json');
    const ids = (JSON.parse(listed.stdout) as { checkpoints: { id: string }[] }).checkpoints.map((c) => c.id);
    expect(ids).toEqual(['loose/ckpt-000000100', 'loose/ckpt-000000200', 'loose/ckpt-000000300']);
  });

  it('exits 1 naming the damaged file, leaves the workspace as it was, and --json gives the report', async () => {
    const source = await sourceWorkspace({ alpha: [100] });
    flipLastByte(path.join(source, 'alpha', 'ckpt-000000100', 'model.safetensors'));
    const workspace = makeTempWorkspace().root;
    fs.mkdirSync(workspace);
    const before = treeHash(workspace);
    const result = cli(workspace, 'import', path.join(source, 'alpha'), '--json');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as ImportReport;
    expect(report.results[0]).toMatchObject({ ok: false, format: 'checkpoint-studio run', error: { code: 'damaged' } });
    expect(report.results[0]?.ok === false && report.results[0].error.message).toContain(
      `${path.join(source, 'alpha', 'ckpt-000000100', 'model.safetensors')}: tensor`,
    );
    expect(treeHash(workspace)).toBe(before);
    const text = cli(workspace, 'import', path.join(source, 'alpha'));
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^refused {2}.*alpha\n {9}.*model\.safetensors: tensor "[^"]+": CRC32C mismatch/m);
  });

  it('is a usage error without a folder', () => {
    expect(cli(makeTempWorkspace().root, 'import').code).toBe(2);
  });
});
