// npm run bench:s3 — our S3 workspace against the plain SDK on the same bytes, side by side in one
// run against a local Ceph RADOS Gateway (test/s3/ceph-gateway.ts; Debian's ceph packages):
//   saving a checkpoint (commitCheckpoint: two multipart uploads, CRCs, the manifest created once; its requests by command)
//     vs the SDK's plain multipart upload (lib-storage Upload, its defaults) of the same bytes;
//   loading and verifying it (loadStoredCheckpoint: ranged GETs, every CRC-32C checked)
//     vs a plain GetObject of the same objects;
//   listing a workspace of 10,000 checkpoints: the first listing (every manifest read, the run
//     indexes written) and the next (from the indexes), with their cost in requests;
//   a remote training followed live: from a commit by one client to the 'added' event of a
//     workspace another client watches (polling the listing every 2 s, as the app does).
//   BENCH_S3_PARAMS=n       parameters of the saved model (default 8,000,000: 96 MB with Adam's slots)
//   BENCH_S3_CHECKPOINTS=n  checkpoints of the listed workspace (default 10,000, in 10 runs)
//   BENCH_REPEATS=n         alternating repeats of the save and load pairs (default 5)
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { listStoredWorkspace } from '../../electron/core/checkpoint/stored-listing.js';
import { loadStoredCheckpoint } from '../../electron/core/checkpoint/stored-checkpoint.js';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import type { TrainingState } from '../../electron/core/checkpoint/writer.js';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import { parseS3Address } from '../../electron/core/storage/s3-address.js';
import { createS3Client } from '../../electron/core/storage/s3-client.js';
import { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { StoredWorkspace } from '../../electron/core/checkpoint/stored-store.js';
import { startCephGateway } from '../s3/ceph-gateway.js';
import { makeState } from './bench-state.js';

const PARAMS = Number(process.env['BENCH_S3_PARAMS'] ?? 8_000_000);
const CHECKPOINTS = Number(process.env['BENCH_S3_CHECKPOINTS'] ?? 10_000);
const LIST_RUNS = 10;
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 5);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function* chunks(tensors: readonly Tensor[]): AsyncIterable<Uint8Array> {
  for (const t of tensors) yield t.data;
}

/** The requests a storage sent since its count was cleared, by command: `4 HeadObject, 2 PutObject`. */
function requestsText(storage: S3Storage): string {
  return [...storage.requests.entries()].map(([k, v]) => `${v} ${k.replace(/Command$/, '')}`).join(', ');
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function plainUpload(client: S3Client, bucket: string, prefix: string, state: TrainingState): Promise<void> {
  await Promise.all(
    [
      ['model.bin', state.model],
      ['optimizer.bin', state.optimizer],
    ].map(([name, tensors]) =>
      new Upload({ client, params: { Bucket: bucket, Key: `${prefix}${name as string}`, Body: Readable.from(chunks(tensors as Tensor[])) } }).done(),
    ),
  );
}

async function plainGet(client: S3Client, bucket: string, keys: readonly string[]): Promise<number> {
  const bodies = await Promise.all(keys.map(async (Key) => (await client.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body?.transformToByteArray()));
  return bodies.reduce((sum, b) => sum + (b?.length ?? 0), 0);
}

async function saveAndLoad(storage: S3Storage, client: S3Client): Promise<void> {
  const state = makeState(PARAMS, 1);
  const bytes = [...state.model, ...state.optimizer].reduce((s, t) => s + t.data.byteLength, 0);
  const lease = await acquireLease(storage, 'saved/.lock/');
  const ours: number[] = [];
  const plain: number[] = [];
  const loads: number[] = [];
  const gets: number[] = [];
  let commitRequests = '';
  try {
    for (let repeat = 0; repeat < REPEATS; repeat += 1) {
      const step = repeat + 1;
      const pair = [
        async () => {
          storage.requests.clear();
          ours.push(await timed(() => commitCheckpoint(storage, lease, 'saved/', 'saved', { ...state, step })));
          commitRequests = requestsText(storage);
        },
        async () => plain.push(await timed(() => plainUpload(client, 'bench', `plain/${step}/`, state))),
      ];
      for (const run of repeat % 2 === 0 ? pair : [...pair].reverse()) await run();
      const folder = `saved/ckpt-${String(step).padStart(9, '0')}/`;
      const reads = [
        async () => loads.push(await timed(() => loadStoredCheckpoint(storage, folder))),
        async () => gets.push(await timed(() => plainGet(client, 'bench', [`ws/${folder}model.safetensors`, `ws/${folder}optimizer.safetensors`]))),
      ];
      for (const run of repeat % 2 === 0 ? reads : [...reads].reverse()) await run();
    }
  } finally {
    await lease.release();
  }
  const mb = bytes / 1e6;
  console.log(`save ${mb.toFixed(0)} MB (${PARAMS.toLocaleString('en-US')} parameters and Adam's slots), ${REPEATS} alternating repeats, medians:`);
  console.log(`  ours  commitCheckpoint                  ${median(ours).toFixed(0)} ms  (${(mb / (median(ours) / 1000)).toFixed(0)} MB/s)`);
  console.log(`  plain lib-storage Upload of the bytes    ${median(plain).toFixed(0)} ms  (${(mb / (median(plain) / 1000)).toFixed(0)} MB/s)`);
  console.log(`  ratio ours ÷ plain throughput            ${(median(plain) / median(ours)).toFixed(2)}x  (target >= 0.8x)`);
  console.log(`  requests of the last commit: ${commitRequests}`);
  console.log(`load and verify the same checkpoint:`);
  console.log(`  ours  loadStoredCheckpoint (every CRC)   ${median(loads).toFixed(0)} ms`);
  console.log(`  plain GetObject of both objects          ${median(gets).toFixed(0)} ms`);
  console.log(`  ratio ours ÷ plain throughput            ${(median(gets) / median(loads)).toFixed(2)}x  (target >= 0.8x)`);
  // Each repeat's two runs are neighbours: their ratio is less moved by what else loads the machine than the medians are.
  const paired = (a: number[], b: number[]): string => median(a.map((x, i) => (b[i] as number) / x)).toFixed(2);
  console.log(`  median of each repeat's ratio: save ${paired(ours, plain)}x, load and verify ${paired(loads, gets)}x`);
}

/** Runs `work` on every item, `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function listing(storage: S3Storage): Promise<void> {
  const perRun = Math.ceil(CHECKPOINTS / LIST_RUNS);
  const made = performance.now();
  // One real commit per run; the rest are its objects put again under other steps, 64 requests at
  // a time (a commit per checkpoint takes minutes here, and the listing reads the same keys).
  const jobs: { key: string; body: Uint8Array | string }[] = [];
  for (let r = 0; r < LIST_RUNS; r += 1) {
    const run = `run-${r}`;
    await storage.write(`${run}/run.json`, JSON.stringify({ name: run }));
    const lease = await acquireLease(storage, `${run}/.lock/`);
    const first = await commitCheckpoint(storage, lease, `${run}/`, run, { ...makeState(16, 1), metrics: { loss: 1 } });
    await lease.release();
    const model = await storage.read(`${first.key}model.safetensors`);
    const optimizer = await storage.read(`${first.key}optimizer.safetensors`);
    for (let step = 2; step <= perRun; step += 1) {
      const folder = `${run}/ckpt-${String(step).padStart(9, '0')}/`;
      jobs.push({ key: `${folder}model.safetensors`, body: model }, { key: `${folder}optimizer.safetensors`, body: optimizer });
      jobs.push({ key: `${folder}manifest.json`, body: JSON.stringify({ ...first.manifest, step, batchInEpoch: step, metrics: { loss: 1 / step } }) });
    }
  }
  await eachLimited(jobs, 64, (job) => storage.write(job.key, job.body));
  console.log(
    `listing ${(perRun * LIST_RUNS).toLocaleString('en-US')} checkpoints in ${LIST_RUNS} runs (made in ${((performance.now() - made) / 1000).toFixed(0)} s):`,
  );
  for (const label of ['first listing (objects put directly: every manifest read, run indexes written)', 'next listing (from the run indexes)', 'again']) {
    storage.requests.clear();
    const started = performance.now();
    const listed = await listStoredWorkspace(storage);
    const ms = performance.now() - started;
    const count = listed.runs.reduce((s, r) => s + r.checkpoints.length, 0);
    console.log(`  ${label.padEnd(58)} ${ms.toFixed(0).padStart(6)} ms  ${count} checkpoints; requests: ${requestsText(storage)}`);
  }
}

/** Commit → the watching workspace's 'added' event, for commits spread over the poll's phase (not aligned with it). */
async function followedLive(writerStorage: S3Storage, watcherStorage: S3Storage): Promise<void> {
  const COMMITS = 8;
  const watched = await StoredWorkspace.on(watcherStorage, 'read');
  const watch = watched.watch();
  const seen = new Map<string, number>();
  const unsubscribe = watched.catalog.subscribe((event) => {
    if (event.type === 'added') seen.set(event.checkpoint.id, performance.now());
  });
  const lease = await acquireLease(writerStorage, 'live/.lock/');
  const delays: number[] = [];
  try {
    for (let step = 1; step <= COMMITS; step += 1) {
      await new Promise((resolve) => setTimeout(resolve, 700 + ((step * 911) % 1300)));
      const committed = await commitCheckpoint(writerStorage, lease, 'live/', 'live', makeState(10_000, step));
      const at = performance.now();
      const id = committed.key.replace(/\/$/, '');
      while (!seen.has(id)) await new Promise((resolve) => setTimeout(resolve, 20));
      delays.push((seen.get(id) as number) - at);
    }
  } finally {
    await lease.release();
    unsubscribe();
    await watch.close();
    watched.close();
  }
  const sorted = [...delays].sort((a, b) => a - b);
  console.log(`a training followed live (${COMMITS} commits, the listing polled every 2 s):`);
  console.log(
    `  commit → the watcher's 'added' event    median ${median(delays).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms  (target: commit to screen <= 5 s)`,
  );
}

async function main(): Promise<void> {
  const gateway = await startCephGateway({ memoryBytes: 8 * 1024 ** 3 });
  const { client, connection } = createS3Client({
    endpoint: gateway.endpoint,
    credentials: { accessKeyId: gateway.accessKeyId, secretAccessKey: gateway.secretAccessKey },
  });
  try {
    console.log(`S3 benchmark: node ${process.version}, Ceph RGW on ${gateway.endpoint} (memstore)`);
    await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    await saveAndLoad(new S3Storage(client, parseS3Address('s3://bench/ws'), connection.endpoint), client);
    await client.send(new CreateBucketCommand({ Bucket: 'listing' }));
    await listing(new S3Storage(client, parseS3Address('s3://listing/ws'), connection.endpoint));
    await client.send(new CreateBucketCommand({ Bucket: 'live' }));
    const { client: watcherClient } = createS3Client({
      endpoint: gateway.endpoint,
      credentials: { accessKeyId: gateway.accessKeyId, secretAccessKey: gateway.secretAccessKey },
    });
    try {
      await followedLive(
        new S3Storage(client, parseS3Address('s3://live/ws'), connection.endpoint),
        new S3Storage(watcherClient, parseS3Address('s3://live/ws'), connection.endpoint),
      );
    } finally {
      watcherClient.destroy();
    }
  } finally {
    client.destroy();
    await gateway.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
