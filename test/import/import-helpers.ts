// Source folders for the import tests (a workspace of ours written by the real writer, so the
// sources are exactly what the program makes), and a hash of a whole tree to prove a refused
// import changed nothing.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { StudioApi } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { makeTempWorkspace, onCleanup, trainingState } from '../store/helpers.js';

/** Every path below `root` with its kind and content (files) or link target: equal hashes, equal trees. */
export function treeHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const info = fs.lstatSync(full);
      const rel = path.relative(root, full);
      if (info.isSymbolicLink()) hash.update(`L ${rel} ${fs.readlinkSync(full)}\n`);
      else if (info.isDirectory()) {
        hash.update(`D ${rel}\n`);
        walk(full);
      } else hash.update(`F ${rel} ${info.size} ${info.mtimeMs} `).update(fs.readFileSync(full)).update('\n');
    }
  };
  walk(root);
  return hash.digest('hex');
}

/** A workspace elsewhere holding `runs` (run → steps), written by our own writer: the import sources. */
export async function sourceWorkspace(runs: Record<string, number[]>, parent: { run: string; step: number } | null = null): Promise<string> {
  const { root } = makeTempWorkspace();
  const store = await CheckpointStore.open(root);
  for (const [run, steps] of Object.entries(runs)) {
    const writer = await store.createRun(run, { parent, config: { model: 'mlp' } });
    for (const step of steps) await writer.save(trainingState(step, { parent }));
    await writer.appendMetrics({ step: steps[0] ?? 0, loss: 0.5 });
    await writer.close();
  }
  return store.root;
}

/** A Studio on a fresh workspace holding `runs`. */
export async function studioWith(runs: Record<string, number[]> = {}): Promise<{ api: StudioApi; studio: Studio; root: string }> {
  const root = await sourceWorkspace(runs);
  const studio = new Studio();
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({ path: root });
  return { api: studio.api, studio, root };
}

/** Flips one byte of a tensor's data (the last byte of the file: inside the last tensor). */
export function flipLastByte(file: string): void {
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
  fs.writeFileSync(file, bytes);
}
