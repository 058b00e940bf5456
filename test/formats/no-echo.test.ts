// Issue 15: `inspect /etc/shadow` printed the file's first 8 bytes as a "header length". The class:
// no message the Studio gives about a file (an error, a verify problem, a note, a warning, a
// skipped folder's reason, a trash problem) may carry the file's bytes. Every entry point a user
// reaches through the StudioApi is run on files that hold a secret in every place a reader
// decodes (no-echo-files.ts), and on damaged copies of the real fixtures, and nothing said may
// contain the secret, 8 characters of it, or any 4- or 8-byte integer read from it (decimal or hex).
// NO_ECHO_SEED replays a run; NO_ECHO_VARIANTS sets how many damaged copies of each fixture;
// NO_ECHO_PRINT=1 prints everything that was said.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StudioApi } from '../../electron/contract.js';
import { EXPORT_FORMATS } from '../../electron/contract.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { Rng } from '../fuzz/prng.js';
import { type SecretCase, damagedCases, makeSecrets, needlesOf, secretCases } from './no-echo-files.js';

const SEED = Number(process.env['NO_ECHO_SEED'] ?? 15_2024);
const VARIANTS = Number(process.env['NO_ECHO_VARIANTS'] ?? 3);
const rng = new Rng(SEED);
const secrets = makeSecrets(rng);
const needles = [...needlesOf(secrets.shadow), ...needlesOf(secrets.plain)];
const SLOW = 120_000;

/** One thing the Studio said, and which call said it. */
interface Said {
  readonly where: string;
  readonly text: string;
}

const folders: string[] = [];
const studios: Studio[] = [];
afterEach(async () => {
  for (const studio of studios.splice(0)) await studio.close();
  for (const dir of folders.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cs-no-echo-'));
  folders.push(dir);
  return dir;
}

/** A Studio whose warnings land in `said`. */
function studio(said: Said[], options: ConstructorParameters<typeof Studio>[0] = {}): StudioApi {
  const made = new Studio(options);
  studios.push(made);
  made.api.on('warning', ({ message }) => said.push({ where: 'warning event', text: message }));
  return made.api;
}

/** Runs `call`; what it returns is turned into the texts it says, a failure into its message. */
async function run<T>(said: Said[], where: string, call: () => Promise<T>, texts: (result: T) => (string | null | undefined)[] = () => []): Promise<T | null> {
  try {
    const result = await call();
    for (const text of texts(result)) if (text) said.push({ where, text });
    return result;
  } catch (error) {
    said.push({ where, text: error instanceof Error ? error.message : String(error) });
    return null;
  }
}

/** What a workspace shows of itself: skipped folders, checkpoint statuses and sources, trash problems, a full verify. */
async function lookAtWorkspace(api: StudioApi, said: Said[], label: string): Promise<string[]> {
  const snapshot = await run(
    said,
    `${label}: snapshot`,
    () => api.snapshot(),
    (s) => [...s.skipped.map((f) => f.reason), ...s.checkpoints.flatMap((c) => [c.statusReason, c.source?.label, c.source?.name])],
  );
  await run(
    said,
    `${label}: listTrash`,
    () => api.listTrash(),
    (t) => t.problems.map((p) => p.problem),
  );
  await run(
    said,
    `${label}: verify`,
    () => api.verify({ targets: [] }),
    (r) => [...r.results.flatMap((v) => v.problems.flatMap((p) => [p.file, p.tensor, p.problem])), ...r.warnings],
  );
  await run(
    said,
    `${label}: planRetention`,
    () => api.planRetention({ policy: { keepLast: 1 } }),
    (plans) => plans.flatMap((p) => p.warnings),
  );
  return snapshot?.checkpoints.map((c) => c.id) ?? [];
}

async function exportEach(api: StudioApi, said: Said[], target: string, label: string): Promise<void> {
  const out = await tempDir();
  for (const format of EXPORT_FORMATS) {
    await run(
      said,
      `${label}: exportCheckpoint ${format}`,
      () => api.exportCheckpoint({ target, format, out: path.join(out, format) }),
      (r) => r.notes,
    );
  }
}

/** inspect, verify, describeSources, importFolders (copy and link), exportCheckpoint on `target`. */
async function readAsSource(api: StudioApi, said: Said[], target: string): Promise<void> {
  await run(said, 'inspect', () => api.inspect({ target }));
  await run(
    said,
    'verify',
    () => api.verify({ targets: [target] }),
    (r) => [...r.results.flatMap((v) => v.problems.flatMap((p) => [p.file, p.tensor, p.problem])), ...r.warnings],
  );
  await run(
    said,
    'describeSources',
    () => api.describeSources({ sources: [target] }),
    (list) => list.flatMap((d) => (d.ok ? [...d.notes, d.formatLabel, ...d.checkpoints.map((c) => c.stepSource)] : [d.error.message])),
  );
  for (const mode of ['copy', 'link'] as const) {
    await run(
      said,
      `importFolders ${mode}`,
      () => api.importFolders({ sources: [target], mode, into: mode }),
      (report) => report.results.flatMap((r) => (r.ok ? r.notes : [r.error.message])),
    );
  }
  for (const id of await lookAtWorkspace(api, said, 'after import')) await exportEach(api, said, id, `imported ${id}`);
  await exportEach(api, said, target, 'source');
}

async function sayAbout(secretCase: SecretCase, dir: string): Promise<Said[]> {
  const said: Said[] = [];
  const target = await secretCase.build(dir);
  const workspace = path.join(await tempDir(), 'ws');
  if (secretCase.kind === 'settings') {
    const api = studio(said, { settingsFile: target });
    await run(said, 'settings', () => api.settings());
    await run(said, 'openWorkspace', () => api.openWorkspace({ path: workspace, create: true }));
    await run(said, 'updateSettings', () => api.updateSettings({ forgetWorkspaces: ['/nowhere'] }));
    return said;
  }
  const api = studio(said);
  await api.openWorkspace({ path: workspace, create: true });
  if (secretCase.kind === 'data') {
    const config = {
      model: { kind: 'mlp' as const },
      optimizer: { name: 'adam' as const, learningRate: 0.001 },
      batchSize: 1,
      epochs: 1,
      seed: 1,
      validationCount: 0,
      dataDir: target,
    };
    const started = await run(said, 'startTraining', () => api.startTraining({ config, maxSteps: 1 }));
    if (started !== null) await api.killTraining();
    return said;
  }
  if (secretCase.kind === 'source') {
    await readAsSource(api, said, target);
    await run(said, 'openWorkspace of its folder', () => api.openWorkspace({ path: path.dirname(target), readOnly: true }));
    await lookAtWorkspace(api, said, 'its folder as a workspace');
    return said;
  }
  // A workspace of ours: its checkpoints read through it, and its run and checkpoint folders as sources.
  const runDir = path.join(target, 'run');
  const checkpointDir = path.join(runDir, 'ckpt-000000001');
  for (const source of [checkpointDir, runDir]) await readAsSource(api, said, source);
  await run(said, 'openWorkspace', () => api.openWorkspace({ path: target }));
  for (const id of await lookAtWorkspace(api, said, 'the workspace')) {
    await run(said, `inspect ${id}`, () => api.inspect({ target: id }));
    await exportEach(api, said, id, id);
  }
  return said;
}

function leaksIn(said: readonly Said[], more: readonly string[] = []): Said[] {
  return said.filter((s) => {
    const text = s.text.toLowerCase();
    return needles.some((needle) => text.includes(needle)) || more.some((needle) => text.includes(needle));
  });
}

async function check(secretCase: SecretCase): Promise<void> {
  const dir = await tempDir();
  const said = await sayAbout(secretCase, dir);
  if (process.env['NO_ECHO_PRINT']) console.log(`${secretCase.name}:\n${said.map((s) => `  ${s.where}: ${s.text}`).join('\n')}`);
  expect(leaksIn(said, secretCase.needles?.()), `seed ${SEED}: what was said about ${secretCase.name}`).toEqual([]);
}

describe(`no message echoes a file's content (seed ${SEED})`, () => {
  it('the needles catch what the issue saw, and what the readers said of these secrets before', () => {
    expect(needlesOf('root:*:20000:0:99999:7:::')).toContain('3619251681095544690');
    const length = Buffer.from(secrets.shadow).readBigUInt64LE(0);
    expect(leaksIn([{ where: 'inspect', text: `f (byte 0): header length ${length} exceeds the limit of 100000000 bytes` }])).toHaveLength(1);
    const snippet = `f: not valid JSON: Unexpected token 's', "${secrets.plain.slice(0, 10)}"... is not valid JSON`;
    expect(leaksIn([{ where: 'inspect', text: snippet }])).toHaveLength(1);
    expect(leaksIn([{ where: 'inspect', text: 'f (byte 0): not a safetensors file: the 8-byte header length at its start exceeds the limit' }])).toHaveLength(
      0,
    );
  });

  for (const secretCase of secretCases(secrets)) {
    it(`${secretCase.kind}: ${secretCase.name}`, { timeout: SLOW }, () => check(secretCase));
  }

  for (const secretCase of damagedCases(secrets, rng, VARIANTS)) {
    it(`${secretCase.kind}: ${secretCase.name}`, { timeout: SLOW }, () => check(secretCase));
  }
});
