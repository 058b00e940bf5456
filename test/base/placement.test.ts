// placeAtomically and writeAtomically: what is built under a temporary name appears at its
// target whole, or not at all; a failure at any step before the rename leaves no target and no
// stage; an existing target (a file, a folder, even an empty one) is never replaced.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { placeAtomically, writeAtomically, writeFileDurably } from '../../electron/core/base/durable-fs.js';
import { RefusedError } from '../../electron/core/base/errors.js';
import { temporaryName } from '../../electron/core/base/temporaries.js';
import { writeTfBundle } from '../../electron/core/formats/tf/tf-writer.js';
import { rejectionOf, useTempWorkspaces } from '../store/helpers.js';

const makeWorkspace = useTempWorkspaces();

function scratch(): string {
  return makeWorkspace().base;
}

/** A staged folder with a file and a subfolder, as an import or an exporter leaves it. */
async function stagedFolder(dir: string): Promise<string> {
  const stage = path.join(dir, temporaryName('out'));
  fs.mkdirSync(path.join(stage, 'inner'), { recursive: true });
  await writeFileDurably(path.join(stage, 'inner', 'data.bin'), [Buffer.from('payload')]);
  return stage;
}

describe('placeAtomically', () => {
  it('places a folder and a file whole, leaving no temporary behind', async () => {
    const dir = scratch();
    await placeAtomically(await stagedFolder(dir), path.join(dir, 'folder'));
    const file = path.join(dir, temporaryName('file'));
    await writeFileDurably(file, [Buffer.from('bytes')]);
    await placeAtomically(file, path.join(dir, 'file'));
    expect(fs.readdirSync(dir).sort()).toEqual(['file', 'folder']);
    expect(fs.readFileSync(path.join(dir, 'folder', 'inner', 'data.bin'), 'utf8')).toBe('payload');
    expect(fs.readFileSync(path.join(dir, 'file'), 'utf8')).toBe('bytes');
  });

  it('moves a stage from another folder (an import staged under .studio/) into place', async () => {
    const dir = scratch();
    const staging = path.join(dir, '.studio');
    fs.mkdirSync(staging);
    await placeAtomically(await stagedFolder(staging), path.join(dir, 'run'));
    expect(fs.readdirSync(staging)).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'run', 'inner', 'data.bin'))).toBe(true);
  });

  it('never replaces an existing target, folder or file, not even an empty folder, and removes the stage', async () => {
    const dir = scratch();
    const cases: [string, () => void][] = [
      ['full', () => fs.mkdirSync(path.join(dir, 'full', 'kept'), { recursive: true })],
      // rename() alone would replace this one silently.
      ['empty', () => fs.mkdirSync(path.join(dir, 'empty'))],
      ['file', () => fs.writeFileSync(path.join(dir, 'file'), 'theirs')],
      ['link', () => fs.symlinkSync('nowhere', path.join(dir, 'link'))],
    ];
    for (const [name, make] of cases) {
      make();
      const before = fs.readdirSync(dir).sort();
      const error = await rejectionOf(placeAtomically(await stagedFolder(dir), path.join(dir, name)), RefusedError);
      expect(error.message).toContain(path.join(dir, name));
      expect(fs.readdirSync(dir).sort(), name).toEqual(before);
    }
    // A file stage is linked into place, which fails when the name is taken rather than replacing it.
    const stage = path.join(dir, temporaryName('file'));
    await writeFileDurably(stage, [Buffer.from('ours')]);
    await rejectionOf(placeAtomically(stage, path.join(dir, 'file'), { taken: 'is someone else’s' }), RefusedError);
    expect(fs.readFileSync(path.join(dir, 'file'), 'utf8')).toBe('theirs');
    expect(fs.existsSync(stage)).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'empty'))).toEqual([]);
  });

  it('a failing check or a rename that cannot happen leaves no target and removes the stage', async () => {
    const dir = scratch();
    const checked = await rejectionOf(
      placeAtomically(await stagedFolder(dir), path.join(dir, 'target'), {
        check: () => {
          throw new Error('does not verify');
        },
      }),
      Error,
    );
    expect(checked.message).toBe('does not verify');
    // The target's folder does not exist: the rename itself fails.
    await expect(placeAtomically(await stagedFolder(dir), path.join(dir, 'missing', 'target'))).rejects.toMatchObject({ code: 'ENOENT' });
    const file = path.join(dir, temporaryName('file'));
    await writeFileDurably(file, [Buffer.from('x')]);
    await expect(placeAtomically(file, path.join(dir, 'missing', 'file'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('after the rename the target is whole: a failure then leaves it in place', async () => {
    const dir = scratch();
    const error = await rejectionOf(
      placeAtomically(await stagedFolder(dir), path.join(dir, 'target'), {
        afterRename: () => {
          throw new Error('power cut');
        },
      }),
      Error,
    );
    expect(error.message).toBe('power cut');
    expect(fs.readdirSync(dir)).toEqual(['target']);
    expect(fs.readFileSync(path.join(dir, 'target', 'inner', 'data.bin'), 'utf8')).toBe('payload');
  });
});

describe('writeAtomically', () => {
  it('refuses an existing target before building anything', async () => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, 'out'), 'theirs');
    let built = false;
    await rejectionOf(
      writeAtomically(path.join(dir, temporaryName('out')), path.join(dir, 'out'), async () => {
        built = true;
      }),
      RefusedError,
    );
    expect(built).toBe(false);
  });

  it('removes a half-built stage when the build fails, and a stage whose target appeared meanwhile', async () => {
    const dir = scratch();
    const halfBuilt = await rejectionOf(
      writeAtomically(path.join(dir, temporaryName('out')), path.join(dir, 'out'), async (stage) => {
        fs.mkdirSync(stage);
        fs.writeFileSync(path.join(stage, 'part'), 'half');
        throw new Error('disk full');
      }),
      Error,
    );
    expect(halfBuilt.message).toBe('disk full');
    expect(fs.readdirSync(dir)).toEqual([]);
    await rejectionOf(
      writeAtomically(path.join(dir, temporaryName('out')), path.join(dir, 'out'), async (stage) => {
        fs.mkdirSync(stage);
        fs.mkdirSync(path.join(dir, 'out'));
      }),
      RefusedError,
    );
    expect(fs.readdirSync(dir)).toEqual(['out']);
  });
});

describe('the TensorFlow bundle writer', () => {
  it('never writes over a bundle of the same prefix, and leaves the first one intact', async () => {
    const dir = scratch();
    const tensor = (value: number) => ({ name: 'w', dtype: 'F32' as const, shape: [1], data: new Uint8Array(Float32Array.of(value).buffer) });
    const first = await writeTfBundle(dir, 'model.ckpt-1', [tensor(1)]);
    const before = [fs.readFileSync(first.dataFile), fs.readFileSync(first.indexFile)];
    await rejectionOf(writeTfBundle(dir, 'model.ckpt-1', [tensor(2)]), RefusedError);
    expect([fs.readFileSync(first.dataFile), fs.readFileSync(first.indexFile)]).toEqual(before);
    expect(fs.readdirSync(dir).sort()).toEqual(['checkpoint', 'model.ckpt-1.data-00000-of-00001', 'model.ckpt-1.index']);
  });
});
