// The ways the fuzz test damages a workspace. Each corruption picks its target and parameters from
// the case's PRNG and returns a one-line description, so a failure report says exactly what was done.
//
// Safety of the harness itself: a corruption writes only through paths whose every folder is a real
// folder inside the workspace (never through a link an earlier corruption made), and every link or
// recorded path it makes leads at most to the case folder (the workspace's parent). Nothing here can
// name `/` or a folder above the case, so even a store that follows every link and deletes whatever
// a record names can only destroy its own case.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Rng } from './prng.js';
import { forceRemove } from './tree.js';

export interface CorruptionContext {
  readonly rng: Rng;
  /** The case folder: `ws/`, `outside/`, `beside.txt`. */
  readonly caseDir: string;
  readonly ws: string;
  /** Run folder names of the template, e.g. `alpha`. */
  readonly runs: readonly string[];
  /** Checkpoint folders relative to the workspace: `alpha/ckpt-000000200`, and trash payloads. */
  readonly checkpoints: readonly string[];
  /** Trash entry folder names of the template. */
  readonly trashEntries: readonly string[];
}

export interface Corruption {
  readonly name: string;
  /** Applies the corruption; returns what it did. Throws Skip when its target no longer exists as such. */
  apply(ctx: CorruptionContext): string;
}

/** A corruption that cannot apply (an earlier one replaced its target): recorded, not a failure. */
export class Skip extends Error {}

function skip(reason: string): never {
  throw new Skip(reason);
}

export function applyCorruption(corruption: Corruption, ctx: CorruptionContext): string {
  try {
    return corruption.apply(ctx);
  } catch (error) {
    if (error instanceof Skip) return `${corruption.name} (skipped: ${error.message})`;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing safely

/** The absolute path of `rel` (inside the workspace), provided every folder on the way is a real folder. */
function inside(ctx: CorruptionContext, rel: string): string {
  let current = ctx.ws;
  for (const part of rel.split('/').slice(0, -1)) {
    current = path.join(current, part);
    let info: fs.Stats;
    try {
      info = fs.lstatSync(current);
    } catch {
      skip(`${rel}: ${part} is gone`);
    }
    if (!info.isDirectory()) skip(`${rel}: ${part} is no longer a plain folder`);
  }
  return path.join(ctx.ws, rel);
}

function lstatOrNull(abs: string): fs.Stats | null {
  try {
    return fs.lstatSync(abs);
  } catch {
    return null;
  }
}

/** Replaces whatever is at `rel` (a link is removed, never followed) by what `make` creates. */
function replace(ctx: CorruptionContext, rel: string, make: (abs: string) => void): string {
  const abs = inside(ctx, rel);
  forceRemove(abs);
  make(abs);
  return abs;
}

function mkfifo(abs: string): void {
  execFileSync('mkfifo', [abs]);
}

function makeDir(abs: string): void {
  fs.mkdirSync(abs);
  fs.writeFileSync(path.join(abs, 'inner.txt'), 'a folder where a file belongs\n');
}

/** A link to `target`, written absolute or relative at random (stores resolve the two differently). */
function link(ctx: CorruptionContext, abs: string, target: string): string {
  const text = ctx.rng.chance(0.5) ? target : path.relative(path.dirname(abs), target);
  fs.symlinkSync(text, abs);
  return text;
}

function outside(ctx: CorruptionContext, ...parts: string[]): string {
  return path.join(ctx.caseDir, 'outside', ...parts);
}

/** The bytes of a regular file at `rel`; skips when it is no longer one. */
function readRegular(ctx: CorruptionContext, rel: string): { abs: string; bytes: Buffer } {
  const abs = inside(ctx, rel);
  const info = lstatOrNull(abs);
  if (!info?.isFile()) skip(`${rel} is no longer a regular file`);
  try {
    return { abs, bytes: fs.readFileSync(abs) };
  } catch (error) {
    skip(`${rel} unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function editBytes(ctx: CorruptionContext, rel: string, edit: (bytes: Buffer) => Buffer): void {
  const { abs, bytes } = readRegular(ctx, rel);
  fs.writeFileSync(abs, edit(bytes));
}

/** Stands for raw JSON text (1e400, a 100,000-deep array) that JSON.stringify cannot produce. */
class Raw {
  constructor(readonly text: string) {}
}

function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (v instanceof Raw) {
        raws.push(v.text);
        return `@@raw${raws.length - 1}@@`;
      }
      return v;
    },
    2,
  );
  return text.replace(/"@@raw(\d+)@@"/g, (_m, i: string) => raws[Number(i)] ?? 'null');
}

/** Edits the JSON object at `rel`; skips when an earlier corruption left it unparsable. */
function editJson(ctx: CorruptionContext, rel: string, edit: (json: Record<string, unknown>) => void): void {
  const { abs, bytes } = readRegular(ctx, rel);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    skip(`${rel} is no longer valid JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) skip(`${rel} is no longer a JSON object`);
  const object = json as Record<string, unknown>;
  edit(object);
  let text: string;
  try {
    text = toJson(object);
  } catch (error) {
    // An earlier corruption nested it 100,000 deep: JSON.parse copes, JSON.stringify does not.
    if (error instanceof RangeError) skip(`${rel} is nested too deeply to rewrite`);
    throw error;
  }
  fs.writeFileSync(abs, text);
}

function show(value: unknown): string {
  if (value instanceof Raw) return value.text.length > 40 ? `${value.text.slice(0, 20)}…(${value.text.length} chars)` : value.text;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 40)}…(${text.length} chars)` : text;
}

function flipBytes(rng: Rng, bytes: Buffer, from: number, to: number): number[] {
  const offsets: number[] = [];
  if (to <= from) return offsets;
  for (let n = rng.int(1, 9); n > 0; n -= 1) {
    const at = rng.int(from, to);
    bytes[at] = (bytes[at] as number) ^ rng.int(1, 256);
    offsets.push(at);
  }
  return offsets;
}

const deepArray = (depth: number): Raw => new Raw(`${'['.repeat(depth)}${']'.repeat(depth)}`);

// ---------------------------------------------------------------------------------------------
// Targets

const TENSOR_FILES = ['model.safetensors', 'optimizer.safetensors'] as const;

function pickCheckpoint(ctx: CorruptionContext): string {
  return ctx.rng.pick(ctx.checkpoints);
}

function pickRun(ctx: CorruptionContext): string {
  return ctx.rng.pick(ctx.runs);
}

function pickEntry(ctx: CorruptionContext): string {
  if (ctx.trashEntries.length === 0) skip('the template has no trash entries');
  return ctx.rng.pick(ctx.trashEntries);
}

/** Step numbers of the template's checkpoints, for "the manifest names another step". */
function stepOf(rel: string): number {
  return Number(/ckpt-(\d+)/.exec(rel)?.[1] ?? 0);
}

// ---------------------------------------------------------------------------------------------
// The catalogue

/** A file replaced by a FIFO, a folder, a link out of the workspace, a link loop, or removed. */
function fileReplacements(kind: string, target: (ctx: CorruptionContext) => string, outsideTargets: readonly string[]): Corruption[] {
  return [
    { name: `${kind}:fifo`, apply: (ctx) => `${kind}:fifo ${rel(ctx, replace(ctx, target(ctx), mkfifo))}` },
    { name: `${kind}:directory`, apply: (ctx) => `${kind}:directory ${rel(ctx, replace(ctx, target(ctx), makeDir))}` },
    {
      name: `${kind}:symlink-outside`,
      apply: (ctx) => {
        const to = ctx.rng.pick(outsideTargets);
        let text = '';
        const abs = replace(ctx, target(ctx), (a) => (text = link(ctx, a, outside(ctx, to))));
        return `${kind}:symlink-outside ${rel(ctx, abs)} -> ${text}`;
      },
    },
    {
      name: `${kind}:symlink-loop`,
      apply: (ctx) => {
        const selfLoop = ctx.rng.chance(0.5);
        const abs = replace(ctx, target(ctx), (a) => {
          if (selfLoop) fs.symlinkSync(path.basename(a), a);
          else {
            const other = `${a}.loop`;
            forceRemove(other);
            fs.symlinkSync(path.basename(a), other);
            fs.symlinkSync(path.basename(other), a);
          }
        });
        return `${kind}:symlink-loop ${rel(ctx, abs)} (${selfLoop ? 'to itself' : 'via a second link'})`;
      },
    },
    {
      name: `${kind}:dangling-symlink`,
      apply: (ctx) =>
        `${kind}:dangling-symlink ${rel(
          ctx,
          replace(ctx, target(ctx), (a) => fs.symlinkSync('no-such-file', a)),
        )}`,
    },
    {
      name: `${kind}:remove`,
      apply: (ctx) =>
        `${kind}:remove ${rel(
          ctx,
          replace(ctx, target(ctx), () => undefined),
        )}`,
    },
    {
      name: `${kind}:unreadable`,
      apply: (ctx) => {
        const where = target(ctx);
        const { abs } = readRegular(ctx, where);
        fs.chmodSync(abs, 0);
        return `${kind}:unreadable ${where} (chmod 000${process.getuid?.() === 0 ? ', no effect as root' : ''})`;
      },
    },
  ];
}

function rel(ctx: CorruptionContext, abs: string): string {
  return path.relative(ctx.ws, abs);
}

function garbage(kind: string, target: (ctx: CorruptionContext) => string): Corruption {
  return {
    name: `${kind}:garbage`,
    apply: (ctx) => {
      const where = target(ctx);
      // Truncating or flipping needs a file to start from; a missing one (a lock) gets random bytes.
      const drawn = ctx.rng.int(0, 4);
      const choice = drawn >= 2 && !lstatOrNull(inside(ctx, where))?.isFile() ? 0 : drawn;
      if (choice === 0) {
        const bytes = ctx.rng.bytes(ctx.rng.int(1, 200));
        replace(ctx, where, (a) => fs.writeFileSync(a, bytes));
        return `${kind}:garbage ${where}: ${bytes.length} random bytes`;
      }
      if (choice === 1) {
        const value = ctx.rng.pick([
          '',
          '{}',
          '[]',
          'null',
          '""',
          '0',
          'true',
          '{"a":',
          '\u0000\u0000\u0000\u0000',
          '\ufeff{}',
          '{"__proto__":{"polluted":1}}',
        ]);
        replace(ctx, where, (a) => fs.writeFileSync(a, value));
        return `${kind}:garbage ${where}: ${JSON.stringify(value)}`;
      }
      if (choice === 2) {
        let cut = 0;
        editBytes(ctx, where, (b) => b.subarray(0, (cut = ctx.rng.int(0, b.length))));
        return `${kind}:garbage ${where}: truncated at byte ${cut}`;
      }
      let flipped: number[] = [];
      editBytes(ctx, where, (b) => {
        flipped = flipBytes(ctx.rng, b, 0, b.length);
        return b;
      });
      return `${kind}:garbage ${where}: bytes flipped at ${flipped.join(',')}`;
    },
  };
}

/** Sets one field of a JSON file to one of `values` (picked at random); `key` may be a path `a/b`. */
function fieldEdit(
  kind: string,
  target: (ctx: CorruptionContext) => string,
  key: string,
  values: (ctx: CorruptionContext, where: string) => readonly unknown[],
): Corruption {
  return {
    name: `${kind}:${key}`,
    apply: (ctx) => {
      const where = target(ctx);
      const value = ctx.rng.pick(values(ctx, where));
      editJson(ctx, where, (json) => {
        const parts = key.split('/');
        let holder: Record<string, unknown> = json;
        for (const part of parts.slice(0, -1)) {
          const next = holder[part];
          if (typeof next !== 'object' || next === null || Array.isArray(next)) holder[part] = {};
          holder = holder[part] as Record<string, unknown>;
        }
        const last = parts[parts.length - 1] as string;
        if (value === undefined) delete holder[last];
        else holder[last] = value;
      });
      return `${kind}:${key} ${where} = ${value === undefined ? '(removed)' : show(value)}`;
    },
  };
}

const manifestOf = (ctx: CorruptionContext): string => `${pickCheckpoint(ctx)}/manifest.json`;

const MANIFEST: Corruption[] = [
  // Twice: torn and bit-flipped manifests are the damage real disks and crashes produce most.
  garbage('manifest', manifestOf),
  garbage('manifest', manifestOf),
  ...fileReplacements('manifest', manifestOf, ['secret.txt', 'ckpt-000000700/manifest.json', 'sub', 'run.json']),
  fieldEdit('manifest', manifestOf, 'step', (ctx, where) => [
    new Raw('1e400'),
    1e308,
    2 ** 53 + 2,
    1e21,
    -1,
    -0.5,
    1.5,
    '100',
    null,
    stepOf(where) + 1,
    stepOf(ctx.rng.pick(ctx.checkpoints)),
  ]),
  fieldEdit('manifest', manifestOf, 'formatVersion', () => [0, 2, 999999, -1, 1.5, '1', null, new Raw('1e400')]),
  fieldEdit('manifest', manifestOf, 'files', (ctx) => [
    { '../../outside/x': { bytes: 2 } },
    { '/etc/passwd': { bytes: 0 } },
    { 'model.safetensors': { bytes: 10 }, '../../beside.txt': { bytes: 7 } },
    { [outside(ctx, 'secret.txt')]: { bytes: 1 } },
    {},
    null,
    [],
    'model.safetensors',
    undefined,
  ]),
  fieldEdit('manifest', manifestOf, 'files/model.safetensors', () => [
    { bytes: 0 },
    { bytes: -1 },
    { bytes: 1e308 },
    { bytes: 2 ** 53 },
    { bytes: 'x' },
    null,
    { bytes: new Raw('1e400') },
  ]),
  fieldEdit('manifest', manifestOf, 'tensors', () => [
    [],
    null,
    [{ file: 'model.safetensors', name: 'dense/kernel', dtype: 'X', shape: [4, 3], bytes: 48, crc32c: '00000000' }],
    [{ file: 'model.safetensors', name: 'dense/kernel', dtype: 'F32', shape: [2 ** 40, 2 ** 40], bytes: 48, crc32c: '00000000' }],
    [{ file: '../../outside/x', name: 'x', dtype: 'F32', shape: [1], bytes: 4, crc32c: '00000000' }],
    [{ file: 'model.safetensors', name: '', dtype: 'F32', shape: [-1], bytes: -4, crc32c: 'zz' }],
    Array.from({ length: 3 }, () => ({ file: 'model.safetensors', name: 'dense/bias', dtype: 'F32', shape: [3], bytes: 12, crc32c: '00000000' })),
  ]),
  fieldEdit('manifest', manifestOf, 'createdAt', () => ['', 'yesterday', 1e20, null, '9999-99-99T99:99:99Z', '2026-13-45T00:00:00.000Z']),
  fieldEdit('manifest', manifestOf, 'metrics', () => [
    { loss: 'x' },
    { loss: 1e308 },
    { loss: new Raw('1e400') },
    new Raw('{"__proto__": 1, "constructor": 2, "toString": 3}'),
    null,
    [],
    { ['x'.repeat(10_000)]: 1 },
    { loss: deepArray(1000) },
  ]),
  fieldEdit('manifest', manifestOf, 'parent', () => [
    { run: '../x', step: 1 },
    { run: '../../outside', step: 700 },
    { run: 'alpha', step: -1 },
    { run: '', step: 0 },
    { run: 'alpha/../beta', step: 350 },
    'alpha',
  ]),
  fieldEdit('manifest', manifestOf, 'writer', () => [null, { program: 5 }, { program: 'someone-else', version: '9' }, 'checkpoint-studio']),
  fieldEdit('manifest', manifestOf, 'epoch', () => [-1, 1e308, 'x', null, 2 ** 53 + 2]),
  fieldEdit('manifest', manifestOf, 'rng', () => [deepArray(100_000), new Raw('1e400')]),
  fieldEdit('manifest', manifestOf, 'extra', () => [{ pad: 'x'.repeat(200_000) }, deepArray(100_000), null]),
  fieldEdit('manifest', manifestOf, 'origin', () => ['evil', null, 'imported']),
];

const tensorOf = (ctx: CorruptionContext): string => `${pickCheckpoint(ctx)}/${ctx.rng.pick(TENSOR_FILES)}`;

/** The safetensors header length field, or null when the file is too short to have one. */
function headerLength(bytes: Buffer): number | null {
  return bytes.length >= 8 ? Number(bytes.readBigUInt64LE(0)) : null;
}

const TENSOR: Corruption[] = [
  {
    name: 'tensor:truncate',
    apply: (ctx) => {
      const where = tensorOf(ctx);
      let cut = 0;
      editBytes(ctx, where, (b) => b.subarray(0, (cut = ctx.rng.pick([0, 4, 7, 8, ctx.rng.int(0, b.length)]))));
      return `tensor:truncate ${where} at byte ${cut}`;
    },
  },
  {
    name: 'tensor:extend',
    apply: (ctx) => {
      const where = tensorOf(ctx);
      const extra = ctx.rng.bytes(ctx.rng.int(1, 65));
      editBytes(ctx, where, (b) => Buffer.concat([b, extra]));
      return `tensor:extend ${where} by ${extra.length} bytes`;
    },
  },
  {
    name: 'tensor:flip-header',
    apply: (ctx) => {
      const where = tensorOf(ctx);
      let flipped: number[] = [];
      editBytes(ctx, where, (b) => {
        const n = headerLength(b) ?? 0;
        flipped = flipBytes(ctx.rng, b, 8, Math.min(b.length, 8 + n));
        return b;
      });
      return `tensor:flip-header ${where} at ${flipped.join(',') || '(no header)'}`;
    },
  },
  {
    name: 'tensor:flip-data',
    apply: (ctx) => {
      const where = tensorOf(ctx);
      let flipped: number[] = [];
      editBytes(ctx, where, (b) => {
        const n = headerLength(b) ?? 0;
        flipped = flipBytes(ctx.rng, b, Math.min(b.length, 8 + n), b.length);
        return b;
      });
      return `tensor:flip-data ${where} at ${flipped.join(',') || '(no data)'}`;
    },
  },
  {
    name: 'tensor:header-length',
    apply: (ctx) => {
      const where = tensorOf(ctx);
      let value = 0n;
      editBytes(ctx, where, (b) => {
        if (b.length < 8) skip(`${where} is shorter than 8 bytes`);
        value = ctx.rng.pick([2n ** 64n - 1n, 2n ** 53n + 1n, 100_000_001n, BigInt(b.length), BigInt(b.length - 7), 0n, 1n]);
        b.writeBigUInt64LE(value, 0);
        return b;
      });
      return `tensor:header-length ${where} = ${value}`;
    },
  },
  {
    name: 'tensor:header-lies',
    apply: (ctx) => {
      const where = tensorOf(ctx);
      let what = '';
      editBytes(ctx, where, (b) => {
        const n = headerLength(b);
        if (n === null || 8 + n > b.length) skip(`${where} has no readable header`);
        let header: Record<string, Record<string, unknown>>;
        try {
          header = JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as typeof header;
        } catch {
          skip(`${where}: header is no longer JSON`);
        }
        const names = Object.keys(header).filter((k) => k !== '__metadata__');
        if (names.length === 0) skip(`${where}: header lists no tensor`);
        const name = ctx.rng.pick(names);
        const entry = header[name] ?? {};
        const lie = ctx.rng.int(0, 7);
        if (lie === 0) entry.shape = [2 ** 31, 2 ** 31];
        else if (lie === 1) entry.data_offsets = [0, 2 ** 60];
        else if (lie === 2) entry.data_offsets = [-8, 8];
        else if (lie === 3) entry.dtype = ctx.rng.pick(['F4', 'X', 'BOOL', 'F8_E8M0', '']);
        else if (lie === 4) entry.data_offsets = [0, 0];
        else if (lie === 5) entry.shape = 'x';
        else header['__metadata__'] = { format: 5 };
        header[name] = entry;
        const text = JSON.stringify(header);
        if (text.length > n) skip(`${where}: the lie does not fit in the header`);
        what = `${name}: ${JSON.stringify(entry)}`;
        Buffer.from(text.padEnd(n, ' ')).copy(b, 8);
        return b;
      });
      return `tensor:header-lies ${where} ${what}`;
    },
  },
  {
    name: 'tensor:sparse-huge',
    apply: (ctx) => {
      const where = tensorOf(ctx);
      const { abs } = readRegular(ctx, where);
      // Sparse: costs no disk, but a reader that allocates the file's size will find 1 TiB.
      fs.truncateSync(abs, 2 ** 40);
      return `tensor:sparse-huge ${where} extended to 1 TiB (sparse)`;
    },
  },
  ...fileReplacements('tensor', tensorOf, ['secret.txt', 'ckpt-000000700/model.safetensors', 'sub']),
];

const entryDir = (ctx: CorruptionContext): string => `.trash/${pickEntry(ctx)}`;
const entryJson = (ctx: CorruptionContext): string => `${entryDir(ctx)}/entry.json`;
const payloadOf = (ctx: CorruptionContext): string => `${entryDir(ctx)}/payload`;

const TRASH: Corruption[] = [
  fieldEdit('trash', entryJson, 'id', (ctx, where) => [
    '..',
    '../..',
    '../../outside',
    'a/../..',
    outside(ctx),
    ctx.ws,
    '.',
    '',
    'payload',
    `${path.basename(path.dirname(where))}/payload`,
    `${path.basename(path.dirname(where))}/..`,
  ]),
  fieldEdit('trash', entryJson, 'originalPath', (ctx) => [
    '../outside/x',
    'alpha/../../outside',
    'alpha/ckpt-000000100/../../../outside/y',
    outside(ctx, 'restored'),
    '../beside.txt',
    'alpha',
    'alpha/ckpt-000000200',
    'alpha/notes.txt',
    'alpha/.tmp-notes',
    'alpha/ckpt-000000200/model.safetensors',
    '.studio/x',
    '.trash/x',
    '',
    '.',
    'newrun/ckpt-000000100',
  ]),
  fieldEdit('trash', entryJson, 'checkpointId', () => ['../..', '', 'a/b/c', 'alpha/ckpt-x', 'x'.repeat(5000), 'alpha\n/ckpt-1', '/etc/passwd']),
  fieldEdit('trash', entryJson, 'batch', () => ['..', '', '../..', 'x'.repeat(300), null]),
  fieldEdit('trash', entryJson, 'deletedAt', () => ['', 'garbage', '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', 12]),
  fieldEdit('trash', entryJson, 'bytes', () => [-1, 1e308, 2 ** 53, 'x', 1.5, new Raw('1e400')]),
  garbage('trash-entry', entryJson),
  ...fileReplacements('trash-entry', entryJson, ['secret.txt', 'entry.json']),
  {
    name: 'trash:payload-missing',
    apply: (ctx) =>
      `trash:payload-missing ${rel(
        ctx,
        replace(ctx, payloadOf(ctx), () => undefined),
      )}`,
  },
  {
    name: 'trash:payload-file',
    apply: (ctx) =>
      `trash:payload-file ${rel(
        ctx,
        replace(ctx, payloadOf(ctx), (a) => fs.writeFileSync(a, 'not a folder\n')),
      )}`,
  },
  {
    name: 'trash:payload-fifo',
    apply: (ctx) => `trash:payload-fifo ${rel(ctx, replace(ctx, payloadOf(ctx), mkfifo))}`,
  },
  {
    name: 'trash:payload-symlink-outside',
    apply: (ctx) => {
      const to = ctx.rng.pick(['', 'ckpt-000000700', 'payload', 'sub']);
      let text = '';
      const abs = replace(ctx, payloadOf(ctx), (a) => (text = link(ctx, a, outside(ctx, to))));
      return `trash:payload-symlink-outside ${rel(ctx, abs)} -> ${text}`;
    },
  },
  {
    name: 'trash:entry-folder-symlink-outside',
    apply: (ctx) => {
      let text = '';
      const abs = replace(ctx, entryDir(ctx), (a) => (text = link(ctx, a, outside(ctx))));
      return `trash:entry-folder-symlink-outside ${rel(ctx, abs)} -> ${text}`;
    },
  },
  {
    // outside/entry.json is a valid record whose id is "outside-entry", the newest of all.
    name: 'trash:outside-entry',
    apply: (ctx) => {
      let text = '';
      const abs = replace(ctx, '.trash/outside-entry', (a) => (text = link(ctx, a, outside(ctx))));
      return `trash:outside-entry ${rel(ctx, abs)} -> ${text}`;
    },
  },
  {
    // A second copy of an entry under another folder name: odd, or the next batch (so it is what --last restores).
    name: 'trash:entry-copy',
    apply: (ctx) => {
      const from = entryDir(ctx);
      const name = ctx.rng.pick(['..x', ' ', '-rf', 'x\ny', '000000000003-0000', '999999999999-0000', 'payload']);
      copyAs(ctx, from, `.trash/${name}`);
      return `trash:entry-copy ${from} copied to .trash/${JSON.stringify(name)}`;
    },
  },
  {
    name: 'trash:entry-folder-fifo',
    apply: (ctx) => `trash:entry-folder-fifo ${rel(ctx, replace(ctx, entryDir(ctx), mkfifo))}`,
  },
  {
    name: 'trash:dir-symlink-outside',
    apply: (ctx) => {
      let text = '';
      const abs = replace(ctx, '.trash', (a) => (text = link(ctx, a, outside(ctx))));
      return `trash:dir-symlink-outside ${rel(ctx, abs)} -> ${text}`;
    },
  },
  {
    name: 'trash:dir-replaced',
    apply: (ctx) => {
      const what = ctx.rng.pick(['file', 'fifo'] as const);
      const abs = replace(ctx, '.trash', what === 'file' ? (a) => fs.writeFileSync(a, 'trash?\n') : mkfifo);
      return `trash:dir-replaced ${rel(ctx, abs)} by a ${what}`;
    },
  },
  {
    name: 'trash:stray-file',
    apply: (ctx) =>
      `trash:stray-file ${rel(
        ctx,
        replace(ctx, '.trash/notes.txt', (a) => fs.writeFileSync(a, 'stray\n')),
      )}`,
  },
];

const lockOf = (ctx: CorruptionContext): string => `${pickRun(ctx)}/.lock`;

function lockRecord(pid: unknown, host: unknown): string {
  return JSON.stringify({ pid, host, since: '2024-01-01T00:00:00.000Z', token: 'fuzz-lock' });
}

const LOCK: Corruption[] = [
  garbage('lock', lockOf),
  {
    name: 'lock:holder',
    apply: (ctx) => {
      const where = lockOf(ctx);
      const [label, pid, host] = ctx.rng.pick([
        ['this very process (live)', process.pid, os.hostname()],
        ['another host', 4242, 'some-other-host.example'],
        ['pid 1 (live)', 1, os.hostname()],
        ['a pid that cannot exist (stale)', 2147483646, os.hostname()],
        ['pid -1', -1, os.hostname()],
        ['pid 0', 0, os.hostname()],
        ['pid as a string', '42', os.hostname()],
        ['empty host', 4242, ''],
      ] as const);
      replace(ctx, where, (a) => fs.writeFileSync(a, lockRecord(pid, host)));
      return `lock:holder ${where}: ${label}`;
    },
  },
  ...fileReplacements('lock', lockOf, ['secret.txt']).filter((c) => !c.name.endsWith(':unreadable')),
];

const runJsonOf = (ctx: CorruptionContext): string => `${pickRun(ctx)}/run.json`;

const RUN_JSON: Corruption[] = [
  garbage('run.json', runJsonOf),
  fieldEdit('run.json', runJsonOf, 'parent', () => [
    { run: '../x', step: 1 },
    { run: '../../outside', step: 700 },
    { run: 'alpha', step: -1 },
    { run: 'beta', step: 350 },
    { run: 'alpha/../beta', step: 350 },
    'alpha',
    { run: 'alpha', step: new Raw('1e400') },
  ]),
  fieldEdit('run.json', runJsonOf, 'name', () => ['../../outside', '', 'x\ny', 7]),
  fieldEdit('run.json', runJsonOf, 'formatVersion', () => [2, 0, null]),
  ...fileReplacements('run.json', runJsonOf, ['run.json', 'secret.txt']),
];

const retentionOf = (ctx: CorruptionContext): string => `${pickRun(ctx)}/retention.json`;

const RETENTION: Corruption[] = [
  garbage('retention', retentionOf),
  fieldEdit('retention', retentionOf, 'pinned', () => [
    ['../../outside'],
    ['..'],
    ['../../outside/ckpt-000000700'],
    ['ckpt-000000200', '../beta/ckpt-000000350'],
    'ckpt-000000200',
    [1, 2],
    null,
  ]),
  fieldEdit('retention', retentionOf, 'policy', () => [
    { keepLast: 0 },
    { keepLast: -1 },
    { keepLast: 1e308 },
    { keepLast: 'x' },
    { keepLast: 1.5 },
    { keepBest: { k: 1, metric: '__proto__', mode: 'min' } },
    { keepBest: { k: 1e9, metric: 'loss', mode: 'sideways' } },
    { maxBytes: 1 },
    { keepEveryHours: 1e-300 },
    { keepEverySteps: 1 },
    { keepLast: 1, keepBest: { k: 1, metric: 'constructor', mode: 'max' }, maxBytes: 1 },
    null,
  ]),
  fieldEdit('retention', retentionOf, 'bestSeen', () => [{ metric: 'loss', mode: 'min', value: new Raw('1e400'), step: 1 }, 'x', { metric: 5 }]),
  ...fileReplacements('retention', retentionOf, ['secret.txt']),
];

const VERIFIED = '.studio/verified.json';

const VERIFY_CACHE: Corruption[] = [
  garbage('verified', () => VERIFIED),
  {
    name: 'verified:entries',
    apply: (ctx) => {
      const choice = ctx.rng.int(0, 3);
      editJson(ctx, VERIFIED, (json) => {
        const entries = typeof json['entries'] === 'object' && json['entries'] !== null ? (json['entries'] as Record<string, unknown>) : {};
        if (choice === 0) json['entries'] = { ...entries, '../../outside': { signature: 'x', ok: true, reason: null, at: 'now' } };
        else if (choice === 1)
          json['entries'] = Object.fromEntries(Object.keys(entries).map((k) => [k, { signature: 'forged', ok: true, reason: null, at: 'now' }]));
        else json['entries'] = new Raw('{"__proto__": {"ok": true}, "constructor": {"signature": "x", "ok": true, "reason": null, "at": "now"}}');
      });
      return `verified:entries ${VERIFIED}: ${['an entry keyed ../../outside', 'forged signatures', '__proto__ and constructor keys'][choice] ?? ''}`;
    },
  },
  ...fileReplacements('verified', () => VERIFIED, ['secret.txt']).filter((c) => !c.name.endsWith(':unreadable')),
  {
    name: 'studio:replaced',
    apply: (ctx) => {
      const what = ctx.rng.pick(['file', 'symlink-outside', 'fifo'] as const);
      let text = '';
      replace(ctx, '.studio', (a) => {
        if (what === 'file') fs.writeFileSync(a, 'state?\n');
        else if (what === 'fifo') mkfifo(a);
        else text = link(ctx, a, outside(ctx));
      });
      return `studio:replaced .studio by a ${what}${text ? ` -> ${text}` : ''}`;
    },
  },
];

const metricsOf = (ctx: CorruptionContext): string => `${pickRun(ctx)}/metrics.jsonl`;

const METRICS: Corruption[] = [
  garbage('metrics', metricsOf),
  { name: 'metrics:fifo', apply: (ctx) => `metrics:fifo ${rel(ctx, replace(ctx, metricsOf(ctx), mkfifo))}` },
  {
    name: 'metrics:huge-line',
    apply: (ctx) => {
      const where = metricsOf(ctx);
      editBytes(ctx, where, (b) => Buffer.concat([b, Buffer.from(`{"step":1,"pad":"${'x'.repeat(300_000)}"}\n`)]));
      return `metrics:huge-line ${where}`;
    },
  },
];

/** Copies a tree as it is: links as links, FIFOs as new FIFOs (never opened: that would block). */
function copyVerbatim(from: string, to: string): void {
  const info = fs.lstatSync(from);
  if (info.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
  else if (info.isFIFO()) mkfifo(to);
  else if (info.isFile()) fs.copyFileSync(from, to);
  else if (info.isDirectory()) {
    fs.mkdirSync(to);
    for (const name of fs.readdirSync(from)) copyVerbatim(path.join(from, name), path.join(to, name));
  }
}

/** Copies a checkpoint or run folder under a new name. */
function copyAs(ctx: CorruptionContext, fromRel: string, toRel: string): void {
  const from = inside(ctx, fromRel);
  if (!lstatOrNull(from)?.isDirectory()) skip(`${fromRel} is no longer a plain folder`);
  replace(ctx, toRel, (a) => copyVerbatim(from, a));
}

const STRUCTURE: Corruption[] = [
  {
    name: 'structure:run-symlink-outside',
    apply: (ctx) => {
      const where = ctx.rng.chance(0.5) ? 'evil' : pickRun(ctx);
      let text = '';
      replace(ctx, where, (a) => (text = link(ctx, a, outside(ctx))));
      return `structure:run-symlink-outside ${where} -> ${text}`;
    },
  },
  {
    name: 'structure:run-symlink-loop',
    apply: (ctx) => {
      const [where, target] = ctx.rng.pick([
        ['loop', 'loop'],
        ['up', '.'],
        ['upup', '..'],
      ] as const);
      replace(ctx, where, (a) => fs.symlinkSync(target, a));
      return `structure:run-symlink-loop ${where} -> ${target}`;
    },
  },
  {
    name: 'structure:checkpoint-symlink-outside',
    apply: (ctx) => {
      const where = ctx.rng.chance(0.5) ? `${pickRun(ctx)}/ckpt-000000700` : pickCheckpoint(ctx);
      const to = ctx.rng.pick(['ckpt-000000700', '']);
      let text = '';
      replace(ctx, where, (a) => (text = link(ctx, a, outside(ctx, to))));
      return `structure:checkpoint-symlink-outside ${where} -> ${text}`;
    },
  },
  {
    name: 'structure:checkpoint-symlink-loop',
    apply: (ctx) => {
      const where = `${pickRun(ctx)}/ckpt-000000900`;
      const target = ctx.rng.pick(['.', '..', 'ckpt-000000900']);
      replace(ctx, where, (a) => fs.symlinkSync(target, a));
      return `structure:checkpoint-symlink-loop ${where} -> ${target}`;
    },
  },
  {
    name: 'structure:duplicate-step',
    apply: (ctx) => {
      const from = ctx.rng.pick(ctx.checkpoints.filter((c) => !c.startsWith('.trash/')));
      const step = stepOf(from);
      const to = `${path.dirname(from)}/${ctx.rng.pick([`ckpt-${step}`, `ckpt-0000000000000${step}`])}`;
      copyAs(ctx, from, to);
      return `structure:duplicate-step ${to} copied from ${from}`;
    },
  },
  {
    name: 'structure:huge-step',
    apply: (ctx) => {
      const from = ctx.rng.pick(ctx.checkpoints.filter((c) => !c.startsWith('.trash/')));
      const to = `${path.dirname(from)}/${ctx.rng.pick(['ckpt-99999999999999999999', 'ckpt-9007199254740993', `ckpt-${'9'.repeat(240)}`])}`;
      copyAs(ctx, from, to);
      return `structure:huge-step ${to} copied from ${from}`;
    },
  },
  {
    name: 'structure:odd-run-name',
    apply: (ctx) => {
      const from = pickRun(ctx);
      // 'run e\u0301 2' is the template's 'run é 2' in decomposed form: another name on disk, the same to a reader.
      const name = ctx.rng.pick(['al\npha', '-rf', '--json', ' spaced ', 'run é 3', 'run e\u0301 2', 'tab\tname', '..x', 'x'.repeat(255)]);
      copyAs(ctx, from, name);
      return `structure:odd-run-name ${JSON.stringify(name)} copied from ${from}`;
    },
  },
  {
    name: 'structure:checkpoint-not-a-folder',
    apply: (ctx) => {
      const what = ctx.rng.pick(['file', 'fifo'] as const);
      const where = `${pickRun(ctx)}/ckpt-000000650`;
      replace(ctx, where, what === 'file' ? (a) => fs.writeFileSync(a, 'not a checkpoint\n') : mkfifo);
      return `structure:checkpoint-not-a-folder ${where} is a ${what}`;
    },
  },
  {
    name: 'structure:run-not-a-folder',
    apply: (ctx) => {
      const what = ctx.rng.pick(['file', 'fifo'] as const);
      replace(ctx, 'gamma', what === 'file' ? (a) => fs.writeFileSync(a, 'not a run\n') : mkfifo);
      return `structure:run-not-a-folder gamma is a ${what}`;
    },
  },
  {
    name: 'structure:empty-checkpoint',
    apply: (ctx) => {
      const where = `${pickRun(ctx)}/ckpt-000000800`;
      replace(ctx, where, (a) => fs.mkdirSync(a));
      return `structure:empty-checkpoint ${where}`;
    },
  },
  {
    name: 'structure:unreadable-folder',
    apply: (ctx) => {
      const where = ctx.rng.chance(0.5) ? pickRun(ctx) : pickCheckpoint(ctx);
      const abs = inside(ctx, where);
      if (!lstatOrNull(abs)?.isDirectory()) skip(`${where} is no longer a plain folder`);
      fs.chmodSync(abs, 0);
      return `structure:unreadable-folder ${where} (chmod 000${process.getuid?.() === 0 ? ', no effect as root' : ''})`;
    },
  },
];

export const CORRUPTIONS: readonly Corruption[] = [
  ...MANIFEST,
  ...TENSOR,
  ...TRASH,
  ...LOCK,
  ...RUN_JSON,
  ...RETENTION,
  ...VERIFY_CACHE,
  ...METRICS,
  ...STRUCTURE,
];
