// The boundaries of DESIGN.md are lint errors: these prove the rules exist and fire.
import { ESLint } from 'eslint';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const eslint = new ESLint({ cwd: root });

async function ruleIds(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint boundaries', () => {
  it('forbids importing electron under electron/core', async () => {
    const messages = await ruleIds("import { app } from 'electron';\nexport const a = app;\n", 'electron/core/checkpoint/x.ts');
    expect(messages.some((m) => m.startsWith('no-restricted-imports') && m.includes('pure Node'))).toBe(true);
  });

  it('allows Node modules under electron/core', async () => {
    expect(await ruleIds("import path from 'node:path';\nexport const a = path.sep;\n", 'electron/core/checkpoint/x.ts')).toEqual([]);
  });

  it('forbids Node modules and electron in the renderer', async () => {
    const node = await ruleIds("import fs from 'node:fs';\nexport const a = fs;\n", 'renderer/src/x.ts');
    const bare = await ruleIds("import fs from 'fs';\nexport const a = fs;\n", 'renderer/src/x.ts');
    const electron = await ruleIds("import { ipcRenderer } from 'electron';\nexport const a = ipcRenderer;\n", 'renderer/src/x.ts');
    for (const messages of [node, bare, electron]) expect(messages.some((m) => m.startsWith('no-restricted-imports'))).toBe(true);
  });

  it('forbids any at boundaries', async () => {
    const messages = await ruleIds('export function f(x: any): number { return x; }\n', 'electron/contract-x.ts');
    expect(messages.some((m) => m.startsWith('@typescript-eslint/no-explicit-any'))).toBe(true);
  });

  const restricted = (messages: string[]): boolean => messages.some((m) => m.startsWith('no-restricted-imports'));

  it.each([
    'electron/core/training/process/x.ts',
    'electron/core/training/data/x.ts',
    'electron/core/checkpoint/x.ts',
    'electron/core/studio/x.ts',
    'electron/contract.ts',
    'electron/cli/store-commands.ts',
    'electron/cli.ts',
    'electron/host/x.ts',
    'renderer/src/x.ts',
  ])('forbids TensorFlow.js in %s', async (file) => {
    expect(restricted(await ruleIds("import * as tf from '@tensorflow/tfjs';\nexport const a = tf;\n", file))).toBe(true);
  });

  it('allows TensorFlow.js where training runs', async () => {
    for (const file of ['electron/core/training/engine/x.ts', 'electron/core/training/session/x.ts']) {
      expect(await ruleIds("import * as tf from '@tensorflow/tfjs';\nexport const a = tf;\n", file)).toEqual([]);
    }
  });

  it('keeps the store below the formats layer, and the ground layer below both', async () => {
    const formats = "import { readerFor } from '../formats/registry.js';\nexport const a = readerFor;\n";
    expect(restricted(await ruleIds(formats, 'electron/core/checkpoint/x.ts'))).toBe(true);
    expect(
      restricted(
        await ruleIds("import type { ForeignReader } from '../formats/foreign.js';\nexport type A = ForeignReader;\n", 'electron/core/checkpoint/x.ts'),
      ),
    ).toBe(true);
    expect(restricted(await ruleIds("import { Catalog } from '../checkpoint/catalog.js';\nexport const a = Catalog;\n", 'electron/core/base/x.ts'))).toBe(true);
    expect(restricted(await ruleIds(formats, 'electron/core/base/x.ts'))).toBe(true);
    expect(await ruleIds("import { crc32c } from '../base/crc32c.js';\nexport const a = crc32c;\n", 'electron/core/checkpoint/x.ts')).toEqual([]);
    // Where the bytes live (storage/) sits between the ground and the store.
    const catalog = "import { Catalog } from '../checkpoint/catalog.js';\nexport const a = Catalog;\n";
    expect(restricted(await ruleIds(catalog, 'electron/core/storage/x.ts'))).toBe(true);
    expect(restricted(await ruleIds("import { S3Storage } from '../storage/s3-storage.js';\nexport const a = S3Storage;\n", 'electron/core/base/x.ts'))).toBe(
      true,
    );
    expect(await ruleIds("import { S3Storage } from '../storage/s3-storage.js';\nexport const a = S3Storage;\n", 'electron/core/checkpoint/x.ts')).toEqual([]);
    expect(await ruleIds("import { crc32c } from '../base/crc32c.js';\nexport const a = crc32c;\n", 'electron/core/formats/x.ts')).toEqual([]);
  });

  it('keeps the checkpoint store independent of training', async () => {
    expect(restricted(await ruleIds("import { x } from '../training/engine/models.js';\nexport const a = x;\n", 'electron/core/checkpoint/x.ts'))).toBe(true);
  });

  it('keeps the supervisor, the Studio and the CLI from loading the training engine, but lets them name its types', async () => {
    const code = "import { runTrainingSession } from '../session/training-session.js';\nexport const a = runTrainingSession;\n";
    expect(restricted(await ruleIds(code, 'electron/core/training/process/x.ts'))).toBe(true);
    expect(
      restricted(
        await ruleIds("import { TrainingLoop } from '../training/engine/training-loop.js';\nexport const a = TrainingLoop;\n", 'electron/core/studio/x.ts'),
      ),
    ).toBe(true);
    expect(
      restricted(
        await ruleIds(
          "import { verifyResume } from '../core/training/session/verify-resume.js';\nexport const a = verifyResume;\n",
          'electron/cli/store-commands.ts',
        ),
      ),
    ).toBe(true);
    const typeOnly = "import type { SessionControl } from '../session/training-session.js';\nexport type A = SessionControl;\n";
    expect(await ruleIds(typeOnly, 'electron/core/training/process/x.ts')).toEqual([]);
  });

  const syntax = (messages: string[]): boolean => messages.some((m) => m.startsWith('no-restricted-syntax') && m.includes('not even with import()'));
  const ENGINE_SEEKERS = [
    'electron/core/training/process/supervisor.ts',
    'electron/core/studio/studio.ts',
    'electron/cli/train-commands.ts',
    'electron/cli.ts',
    'electron/host/browser-server.ts',
    'electron/main.ts',
    'electron/app/x.ts',
  ];

  it.each(ENGINE_SEEKERS)('sees a dynamic import() of the engine or of TensorFlow.js in %s', async (file) => {
    const literal = "export const load = (): Promise<unknown> => import('../core/training/session/verify-resume.js');\n";
    const engine = "export const load = (): Promise<unknown> => import('../training/engine/training-loop.js');\n";
    const template = 'export const load = (name: string): Promise<unknown> => import(`../session/${name}.js`);\n';
    const tfjs = "export const load = (): Promise<unknown> => import('@tensorflow/tfjs');\n";
    for (const code of [literal, engine, template, tfjs]) expect(syntax(await ruleIds(code, file)), code).toBe(true);
    // Any other module may still load lazily.
    expect(await ruleIds("export const load = (): Promise<unknown> => import('./format.js');\n", file)).toEqual([]);
  });

  it('lets the trainer process itself load the engine dynamically', async () => {
    const code = "export const load = (): Promise<unknown> => import('../engine/training-loop.js');\n";
    expect(await ruleIds(code, 'electron/core/training/session/x.ts')).toEqual([]);
    expect(await ruleIds(code, 'electron/core/training/engine/x.ts')).toEqual([]);
  });

  it("keeps Electron's values out of the command line and the hosts, but lets the IPC host name its types", async () => {
    const value = "import { app } from 'electron';\nexport const a = app;\n";
    for (const file of ['electron/cli/store-commands.ts', 'electron/cli.ts', 'electron/host/ipc-host.ts'])
      expect(restricted(await ruleIds(value, file)), file).toBe(true);
    expect(await ruleIds("import type { IpcMain } from 'electron';\nexport type A = IpcMain;\n", 'electron/host/ipc-host.ts')).toEqual([]);
    // The app's own process is Electron.
    expect(await ruleIds(value, 'electron/main.ts')).toEqual([]);
  });

  it('keeps the hosts on the StudioApi: not even the Studio class as a type', async () => {
    const studio = "import type { Studio } from '../core/studio/studio.js';\nexport type A = Studio;\n";
    expect(restricted(await ruleIds(studio, 'electron/host/browser-server.ts'))).toBe(true);
    expect(await ruleIds("import type { StudioApi } from '../contract.js';\nexport type A = StudioApi;\n", 'electron/host/browser-server.ts')).toEqual([]);
    // Who constructs the Studio (the serve command, the app's main) imports it.
    expect(await ruleIds("import { Studio } from '../core/studio/studio.js';\nexport const a = Studio;\n", 'electron/cli/serve-command.ts')).toEqual([]);
  });

  it('lets the contract import nothing but zod', async () => {
    expect(await ruleIds("import { z } from 'zod';\nexport const a = z;\n", 'electron/contract.ts')).toEqual([]);
    expect(restricted(await ruleIds("import path from 'node:path';\nexport const a = path;\n", 'electron/contract.ts'))).toBe(true);
    expect(restricted(await ruleIds("import { x } from './core/checkpoint/layout.js';\nexport const a = x;\n", 'electron/contract.ts'))).toBe(true);
  });

  it('lets the renderer import the contract and nothing else of the Node side', async () => {
    expect(await ruleIds("import { studioMethods } from '../../electron/contract.js';\nexport const a = studioMethods;\n", 'renderer/src/x.ts')).toEqual([]);
    expect(restricted(await ruleIds("import { x } from '../../electron/core/checkpoint/layout.js';\nexport const a = x;\n", 'renderer/src/x.ts'))).toBe(true);
    expect(restricted(await ruleIds("import { x } from '../../electron/cli/format.js';\nexport const a = x;\n", 'renderer/src/x.ts'))).toBe(true);
  });

  it("forbids Node's globals in the renderer, in scripts and in components", async () => {
    const script = await ruleIds('export const home = process.env.HOME;\n', 'renderer/src/x.ts');
    const component = await ruleIds(
      '<script lang="ts">\n  const bytes = Buffer.from(\'x\');\n</script>\n\n<p>{bytes.length}</p>\n',
      'renderer/src/components/x.svelte',
    );
    for (const messages of [script, component]) expect(messages.some((m) => m.startsWith('no-restricted-globals'))).toBe(true);
    expect(await ruleIds('export const later = setTimeout(() => undefined, 1);\n', 'renderer/src/x.ts')).toEqual([]);
  });

  it('lints Svelte components: their imports, and the rules of Svelte itself', async () => {
    const component = (script: string, markup: string): string => `<script lang="ts">\n${script}\n</script>\n\n${markup}\n`;
    const clean = await ruleIds(component('  let { text }: { text: string } = $props();', '<p>{text}</p>'), 'renderer/src/components/x.svelte');
    expect(clean).toEqual([]);
    const nodeImport = await ruleIds(
      component("  import fs from 'node:fs';\n  const size = fs.statSync('x').size;", '<p>{size}</p>'),
      'renderer/src/components/x.svelte',
    );
    expect(restricted(nodeImport)).toBe(true);
    const rawHtml = await ruleIds(component('  let { html }: { html: string } = $props();', '{@html html}'), 'renderer/src/components/x.svelte');
    expect(rawHtml.some((m) => m.startsWith('svelte/no-at-html-tags'))).toBe(true);
  });

  it('keeps every function in electron/core within 80 lines, blank lines and comments aside', async () => {
    const body = (lines: number): string => Array.from({ length: lines }, (_, i) => `  total += ${i};\n  // a comment\n\n`).join('');
    const fn = (lines: number): string => `export function f(): number {\n  let total = 0;\n${body(lines)}  return total;\n}\n`;
    expect(await ruleIds(fn(70), 'electron/core/studio/x.ts')).toEqual([]);
    expect((await ruleIds(fn(90), 'electron/core/studio/x.ts')).some((m) => m.startsWith('max-lines-per-function'))).toBe(true);
    expect(await ruleIds(fn(90), 'electron/cli/x.ts')).toEqual([]);
  });

  it('lets an export load TensorFlow.js only in its worker thread', async () => {
    const dynamic = "export async function f(): Promise<unknown> {\n  return import('@tensorflow/tfjs');\n}\n";
    const engine = "export async function f(): Promise<unknown> {\n  return import('../training/engine/models.js');\n}\n";
    for (const code of [dynamic, engine])
      expect((await ruleIds(code, 'electron/core/export/x.ts')).some((m) => m.startsWith('no-restricted-syntax'))).toBe(true);
    expect(await ruleIds(dynamic, 'electron/core/export/preset-topology-worker.ts')).toEqual([]);
  });
});
