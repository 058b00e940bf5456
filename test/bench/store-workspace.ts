// The workspace the catalog benchmark opens: RUNS runs of PER_RUN real checkpoints each (one saved
// by the store per run, the rest byte copies at their own steps and losses, as a long training
// leaves them). Kept out of npm test: 100,000 checkpoints are about 400,000 files.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkpointDirName } from '../../electron/core/checkpoint/layout.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';

export interface StoreWorkspaceShape {
  readonly runs: number;
  readonly perRun: number;
}

export function storeRunName(index: number): string {
  return `run-${String(index).padStart(4, '0')}`;
}

/** Builds the workspace at `root` (which must not exist). */
export async function makeStoreWorkspace(root: string, shape: StoreWorkspaceShape): Promise<void> {
  const store = await CheckpointStore.open(root, { access: 'create' });
  for (let r = 0; r < shape.runs; r += 1) {
    const run = storeRunName(r);
    const writer = await store.createRun(run, { parent: null, config: { lr: 0.001 * (1 + (r % 7)) } });
    const template = (await writer.save(trainingState(1))).dir;
    await writer.close();
    const files = readdirSync(template).map((name) => ({ name, bytes: readFileSync(path.join(template, name)) }));
    const manifest = readFileSync(path.join(template, 'manifest.json'), 'utf8');
    const stepField = '"step": 1,';
    if (!manifest.includes(stepField)) throw new Error(`the template manifest ${template} does not spell its step as expected`);
    for (let k = 1; k < shape.perRun; k += 1) {
      const step = 1 + k * 10;
      const dir = path.join(root, run, checkpointDirName(step));
      mkdirSync(dir);
      for (const { name, bytes } of files)
        writeFileSync(path.join(dir, name), name === 'manifest.json' ? manifest.replace(stepField, `"step": ${step},`) : bytes);
    }
  }
}
