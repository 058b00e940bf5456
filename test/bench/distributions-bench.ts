// npm run bench:distributions — one tensor's distributions over a run's checkpoints, through the
// Studio as the app asks for them: the first time (read from the files in the worker), again (from
// `.studio/`'s cache), and after one file changed; and how long the calling thread's event loop
// was held meanwhile (the work is in a worker, so it should stay near zero).
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';

const CHECKPOINTS = Number(process.env.BENCH_CHECKPOINTS ?? 20);
/** One layer under the exact-quantile limit (sorted), one over it (fine histogram, a third read). */
const SMALL = Number(process.env.BENCH_SMALL ?? 1_000_000);
const LARGE = Number(process.env.BENCH_LARGE ?? 6_000_000);

function layer(name: string, size: number, step: number): Tensor {
  const values = new Float32Array(size);
  const spread = 0.02 + step / 10_000;
  for (let i = 0; i < size; i += 1) values[i] = Math.sin(i * 12.9898 + step) * spread + step / 50_000;
  return { name, dtype: 'F32', shape: [size], data: new Uint8Array(values.buffer) };
}

async function makeRun(root: string): Promise<string[]> {
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('bench', { parent: null, config: {} });
  const dirs: string[] = [];
  for (let i = 1; i <= CHECKPOINTS; i += 1) {
    const step = i * 100;
    const saved = await writer.save({
      step,
      epoch: 0,
      batchInEpoch: step,
      trainingTimeMs: step,
      metrics: { loss: 1 / step },
      rng: { seed: 1, counter: [step, 0] },
      backend: 'cpu',
      parent: null,
      model: [layer('small/kernel', SMALL, step), layer('large/kernel', LARGE, step)],
      optimizer: [],
    });
    dirs.push(saved.dir);
  }
  await writer.close();
  return dirs;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T; heldMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  delay.disable();
  return { ms, result, heldMs: delay.max / 1e6 };
}

async function main(): Promise<void> {
  const base = mkdtempSync(path.join(os.tmpdir(), 'dist-bench-'));
  try {
    const root = path.join(base, 'ws');
    const dirs = await makeRun(root);
    // The run was made in this process: its garbage is collected now, not inside a measurement.
    (globalThis as { gc?: () => void }).gc?.();
    const studio = new Studio();
    await studio.api.openWorkspace({ path: root });
    // The control: how long the loop is held while this thread does nothing (the machine's own scheduling noise).
    const idle = await timed(() => new Promise((resolve) => setTimeout(resolve, 2000)));
    const rows: string[] = [
      `idle 2 s for comparison: loop held ≤ ${idle.heldMs.toFixed(0)} ms; load average ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores`,
    ];
    for (const [tensor, size] of [
      ['small/kernel', SMALL],
      ['large/kernel', LARGE],
    ] as const) {
      const ask = (): ReturnType<typeof studio.api.tensorDistributions> => studio.api.tensorDistributions({ run: 'bench', tensor });
      const cold = await timed(ask);
      const warm = await timed(ask);
      const touched = dirs[Math.floor(dirs.length / 2)] as string;
      const later = new Date(Date.now() + 60_000);
      utimesSync(path.join(touched, 'model.safetensors'), later, later);
      const changed = await timed(ask);
      const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;
      const method = cold.result.points[0]?.quantileMethod ?? '?';
      rows.push(
        `${tensor} (${size.toLocaleString('en-US')} values × ${CHECKPOINTS} checkpoints, quantiles ${method}): ` +
          `first ${cold.ms.toFixed(0)} ms (${mb(cold.result.bytesRead)} read, loop held ≤ ${cold.heldMs.toFixed(0)} ms), ` +
          `cached ${warm.ms.toFixed(0)} ms (${mb(warm.result.bytesRead)} read), ` +
          `one file changed ${changed.ms.toFixed(0)} ms (${mb(changed.result.bytesRead)} read)`,
      );
    }
    await studio.close();
    console.log(rows.join('\n'));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
