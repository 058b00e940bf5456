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
});
