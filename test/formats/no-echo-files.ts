// Files that carry a secret in every place a reader decodes, for the no-echo test: a password
// file, the secret as a safetensors header length, inside JSON headers, dtypes, names with control
// characters, model.json fields, HDF5, SSTable and TFRecord prefixes, a TensorFlow state file, our
// manifest.json and run files, a trash record, an IDX header and a settings file; and damaged copies
// of the real fixtures with the secret written over seeded byte ranges.
import { cp, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { sharedFixture, testData } from '../fixtures.js';
import { Rng } from '../fuzz/prng.js';
import { trainingState } from '../store/helpers.js';
import { kerasEntries, kerasWeightsH5, zipOf } from './keras-files.js';

/** Letters and digits only. */
function word(rng: Rng, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, () => alphabet[rng.int(0, alphabet.length)]).join('');
}

export interface Secrets {
  /** A line of /etc/shadow: its `$` keeps it from ever being a plain name (base/describe-value.ts), wherever it is. */
  readonly shadow: string;
  /**
   * Letters and digits only, so a plain name that may be shown once a file is recognised: it is
   * put only where the file is not (yet) recognised as its format, where nothing may be said of it.
   */
  readonly plain: string;
}

export function makeSecrets(rng: Rng): Secrets {
  return { shadow: `root:$6$${word(rng, 16)}$${word(rng, 24)}:19953:0:99999:7:::`, plain: `svc${word(rng, 24)}` };
}

/**
 * Every 4- and 8-byte integer starting in [from, to) of `bytes`, both byte orders, signed and not,
 * in decimal and in hex; those of fewer than 7 significant digits are left out, as they cannot be
 * told from a size or an offset a message rightly gives (a secret's own are all 9 digits or more).
 */
function integerNeedles(bytes: Buffer, from = 0, to = bytes.length): string[] {
  const needles: string[] = [];
  for (let i = Math.max(0, from - 3); i < to && i + 4 <= bytes.length; i++) {
    for (const value of [bytes.readUInt32LE(i), bytes.readUInt32BE(i)]) needles.push(String(value), value.toString(16).padStart(8, '0'));
  }
  for (let i = Math.max(0, from - 7); i < to && i + 8 <= bytes.length; i++) {
    for (const value of [bytes.readBigUInt64LE(i), bytes.readBigUInt64BE(i), bytes.readBigInt64LE(i), bytes.readBigInt64BE(i)]) {
      needles.push(String(value), BigInt.asUintN(64, value).toString(16).padStart(16, '0'));
    }
  }
  return needles.filter((needle) => needle.replace(/^-?0*/, '').length >= 7);
}

/** Every way `secret`'s bytes could come back: each 8 characters of it, its hex, and every integer read from it. */
export function needlesOf(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const windows = Array.from({ length: Math.max(0, secret.length - 7) }, (_, i) => secret.slice(i, i + 8).toLowerCase());
  return [...new Set([bytes.toString('hex'), ...windows, ...integerNeedles(bytes)])];
}

/** A case: a source to read (a file or folder) or a workspace to open, holding the secret somewhere. */
export interface SecretCase {
  readonly name: string;
  readonly kind: 'source' | 'workspace' | 'data' | 'settings';
  /** Builds it under `dir`; returns the path a user would name. */
  readonly build: (dir: string) => Promise<string>;
  /** After build, more that must not be said: integers read across the edges of what was damaged. */
  readonly needles?: () => readonly string[];
}

function safetensorsBytes(header: string, data: Buffer = Buffer.alloc(0), declared?: bigint): Buffer {
  const text = Buffer.from(header, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(declared ?? BigInt(text.length));
  return Buffer.concat([length, text, data]);
}

async function file(dir: string, name: string, content: string | Buffer): Promise<string> {
  const target = path.join(dir, ...name.split('/'));
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, content);
  return target;
}

const F32_PAIR = Buffer.alloc(8);

/** The safetensors, index and Trainer files. */
function safetensorsCases(s: Secrets): SecretCase[] {
  const weird = `\u0007\u001b[2J${s.shadow}\r\n`;
  const json = (value: unknown): string => JSON.stringify(value);
  const tensor = (extra: Record<string, unknown>): Record<string, unknown> => ({ dtype: 'F32', shape: [2], data_offsets: [0, 8], ...extra });
  const one = (name: string, header: string, data = F32_PAIR): SecretCase => ({
    name,
    kind: 'source',
    build: (dir) => file(dir, `${name}.safetensors`, safetensorsBytes(header, data)),
  });
  return [
    { name: 'a password file', kind: 'source', build: (dir) => file(dir, 'shadow', `${s.shadow}\n${s.plain}:x:1:1::/:/bin/sh\n`) },
    { name: 'a plain-text secret', kind: 'source', build: (dir) => file(dir, 'token', `${s.plain}${s.plain}\n`) },
    {
      name: 'a TFRecord-like event file',
      kind: 'source',
      build: (dir) => file(dir, 'events.out.tfevents.1.host', Buffer.concat([Buffer.from(s.shadow), F32_PAIR])),
    },
    one('header-json-syntax', `{"w": ${s.shadow}}`),
    one('header-json-plain-syntax', `{"${s.plain}": ${s.plain}}`),
    one('header-not-an-object', json([s.shadow])),
    one('dtype', json({ w: tensor({ dtype: s.shadow }) })),
    one('name-with-control-characters', json({ [weird]: tensor({ shape: [3] }) })),
    one('name-gap', json({ [weird]: tensor({ data_offsets: [4, 12] }) }), Buffer.alloc(12)),
    one('shape', json({ w: tensor({ shape: [s.shadow] }) })),
    one('offsets', json({ w: tensor({ data_offsets: [s.shadow, 8] }) })),
    one('entry', json({ w: s.shadow })),
    one('metadata-key', json({ __metadata__: { [s.shadow]: 5 }, w: tensor({}) })),
    one('metadata-value', json({ __metadata__: { format: s.shadow }, w: tensor({}) })),
    one('metadata-not-object', json({ __metadata__: s.shadow, w: tensor({}) })),
    {
      name: 'an index naming a missing shard',
      kind: 'source',
      build: (dir) => file(dir, 'model.safetensors.index.json', json({ weight_map: { w: `${s.shadow}.safetensors` } })),
    },
    {
      name: 'an index naming a shard outside',
      kind: 'source',
      build: (dir) => file(dir, 'model.safetensors.index.json', json({ weight_map: { w: `../${s.shadow}/a.safetensors` } })),
    },
    {
      // Longer than a file name may be (and than a name a message shows): the file system's own error quotes the path.
      name: 'an index naming a shard too long to be a file name',
      kind: 'source',
      build: (dir) => file(dir, 'model.safetensors.index.json', json({ weight_map: { w: `${s.plain.repeat(12)}.safetensors` } })),
    },
    {
      name: 'an index mapping a tensor no shard holds',
      kind: 'source',
      build: async (dir) => {
        await file(dir, 'a.safetensors', safetensorsBytes(json({ w: tensor({}) }), F32_PAIR));
        return file(dir, 'model.safetensors.index.json', json({ metadata: { total_size: 8 }, weight_map: { w: 'a.safetensors', [weird]: 'a.safetensors' } }));
      },
    },
    {
      name: 'an index that is not JSON',
      kind: 'source',
      build: (dir) => file(dir, 'model.safetensors.index.json', `{"weight_map": {"w": ${s.shadow}}}`),
    },
    {
      name: 'a trainer_state.json that is not JSON',
      kind: 'source',
      build: async (dir) => {
        await file(dir, 'checkpoint-7/model.safetensors', safetensorsBytes(json({ w: tensor({}) }), F32_PAIR));
        await file(dir, 'checkpoint-7/trainer_state.json', `{"global_step": 7, "best_model_checkpoint": ${s.shadow}}`);
        return path.join(dir, 'checkpoint-7');
      },
    },
    {
      name: 'a trainer_state.json with secrets in its fields',
      kind: 'source',
      build: async (dir) => {
        await file(dir, 'checkpoint-7/model.safetensors', safetensorsBytes(json({ w: tensor({}) }), F32_PAIR));
        const state = { global_step: 7, best_metric: 0.5, best_model_checkpoint: s.shadow, log_history: [{ step: s.shadow }] };
        await file(dir, 'checkpoint-7/trainer_state.json', json(state));
        return path.join(dir, 'checkpoint-7');
      },
    },
    {
      name: 'a trainer_state.json with a secret best checkpoint',
      kind: 'source',
      build: async (dir) => {
        await file(dir, 'checkpoint-7/model.safetensors', safetensorsBytes(json({ w: tensor({}) }), F32_PAIR));
        await file(dir, 'checkpoint-7/trainer_state.json', json({ global_step: 7, best_metric: 0.5, best_model_checkpoint: s.shadow, best_global_step: 7 }));
        return path.join(dir, 'checkpoint-7');
      },
    },
  ];
}

/** TF.js model.json files. */
function tfjsCases(s: Secrets): SecretCase[] {
  const weird = `\u0000\u001b]0;${s.shadow}\u0007`;
  const model = (name: string, manifest: unknown, extra: Record<string, unknown> = {}, bin = F32_PAIR): SecretCase => ({
    name: `model.json: ${name}`,
    kind: 'source',
    build: async (dir) => {
      await file(dir, 'm/w.bin', bin);
      return file(dir, 'm/model.json', JSON.stringify({ ...extra, weightsManifest: manifest }));
    },
  });
  const weights = (entry: Record<string, unknown>, paths: unknown = ['w.bin']): unknown => [
    { paths, weights: [{ name: 'w', shape: [2], dtype: 'float32', ...entry }] },
  ];
  return [
    {
      name: 'model.json: not JSON',
      kind: 'source',
      build: (dir) => file(dir, 'm/model.json', `{"weightsManifest": [], "format": ${s.shadow}}`),
    },
    model('a secret weight file', weights({}, [`${s.shadow}.bin`])),
    model('a weight file outside', weights({}, [`../${s.shadow}.bin`])),
    model('a weight file name too long to be one', weights({}, [`${s.plain.repeat(12)}.bin`])),
    model('a weight file that is a URL', weights({}, [`https://${s.shadow}.example/w.bin`])),
    model('paths not strings', weights({}, [s.shadow, 5])),
    model('a secret dtype', weights({ dtype: s.shadow })),
    model('a name with control characters', weights({ name: weird, dtype: 'float64' })),
    model('a name with control characters too long for its file', weights({ name: weird, shape: [300] })),
    model('a secret shape', weights({ shape: [s.shadow] })),
    model('a secret group', weights({ group: s.shadow })),
    model('a secret quantization', weights({ quantization: { dtype: s.shadow } })),
    model('secret fields', weights({}), { format: s.shadow, generatedBy: s.shadow, convertedBy: weird, userDefinedMetadata: { step: s.shadow } }),
    model('a secret format type', weights({}), { format: 5, generatedBy: [s.shadow] }),
    model('weights not an array', [{ paths: ['w.bin'], weights: s.shadow }]),
    model('a group not an object', [s.shadow]),
    model('a duplicate secret name', [
      {
        paths: ['w.bin'],
        weights: [
          { name: weird, shape: [1], dtype: 'float32' },
          { name: weird, shape: [1], dtype: 'float32' },
        ],
      },
    ]),
    model('an optimizer weight of no variable', [{ paths: ['w.bin'], weights: [{ name: `${weird}/m`, shape: [2], dtype: 'float32', group: 'optimizer' }] }]),
  ];
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A version-0 superblock (HDF5 File Format Specification, "Superblock") with the given end-of-file address. */
function hdf5Superblock(endOfFile: Buffer): Buffer {
  const undefinedAddress = Buffer.alloc(8, 0xff);
  const rootObjectHeader = Buffer.alloc(8);
  rootObjectHeader.writeBigUInt64LE(96n);
  return Buffer.concat([
    HDF5_SIGNATURE,
    Buffer.from([0, 0, 0, 0, 0, 8, 8, 0, 4, 0, 16, 0, 0, 0, 0, 0]), // versions, sizes of offsets and lengths, K values, flags
    Buffer.alloc(8), // base address
    undefinedAddress, // free-space info
    endOfFile,
    undefinedAddress, // driver info
    Buffer.alloc(8), // root group symbol table entry: link name offset,
    rootObjectHeader, // its object header,
    Buffer.alloc(24), // cache type and scratch
    Buffer.alloc(512),
  ]);
}

async function writeH5(target: string, build: (root: InstanceType<typeof h5wasm.File>) => void): Promise<string> {
  await h5wasm.ready;
  const h5 = new h5wasm.File(target, 'w');
  try {
    build(h5);
  } finally {
    h5.close();
  }
  return target;
}

/** HDF5, SSTable and TensorFlow state files. */
function binaryCases(s: Secrets): SecretCase[] {
  const secretBytes = Buffer.from(s.shadow.repeat(8));
  const tableMagic = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);
  const bundle = async (dir: string, stateFile: string): Promise<string> => {
    const folder = path.join(dir, 'bundle');
    await cp(sharedFixture('tf1-saver', 'serving-half-plus-two-exporter') ?? testData('tf-serving', 'half-plus-two-exporter'), folder, { recursive: true });
    await file(folder, 'checkpoint', stateFile);
    return folder;
  };
  return [
    {
      name: 'an HDF5 signature and a secret',
      kind: 'source',
      build: (dir) => file(dir, 'w.h5', Buffer.concat([HDF5_SIGNATURE, secretBytes, Buffer.alloc(2048)])),
    },
    {
      // HDF5 says `truncated file: eof = …, stored_eof = <these 8 bytes as a number>`.
      name: 'an HDF5 superblock whose end-of-file address is the secret',
      kind: 'source',
      build: (dir) => file(dir, 'w.h5', hdf5Superblock(Buffer.from(s.shadow).subarray(0, 8))),
    },
    {
      name: 'a Keras HDF5 file naming secret layers',
      kind: 'source',
      build: (dir) =>
        writeH5(path.join(dir, 'w.h5'), (root) => {
          root.create_attribute('layer_names', [s.shadow]);
          root.create_attribute('keras_version', s.shadow);
          root.create_attribute('backend', s.shadow);
        }),
    },
    {
      name: 'a Keras HDF5 file with secret weight names',
      kind: 'source',
      build: (dir) =>
        writeH5(path.join(dir, 'w.h5'), (root) => {
          root.create_attribute('layer_names', ['dense']);
          root.create_group('dense').create_attribute('weight_names', [s.shadow]);
        }),
    },
    {
      name: 'a Keras 3 file with a secret dataset of strings',
      kind: 'source',
      build: (dir) =>
        writeH5(path.join(dir, 'w.weights.h5'), (root) => {
          root
            .create_group('layers')
            .create_group('dense')
            .create_group('vars')
            .create_dataset({ name: '0', data: [s.shadow] });
        }),
    },
    {
      name: 'an SSTable footer of secrets',
      kind: 'source',
      build: (dir) => file(dir, 'model.index', Buffer.concat([secretBytes, Buffer.from(s.shadow).subarray(0, 40), tableMagic])),
    },
    {
      name: 'a TensorFlow state file that is a password file',
      kind: 'source',
      build: (dir) => bundle(dir, `${s.shadow}\n`),
    },
    {
      name: 'a TensorFlow state file with a plain unknown field',
      kind: 'source',
      build: (dir) => bundle(dir, `${s.plain}: "export"\n`),
    },
    {
      name: 'a TensorFlow state file naming secret prefixes',
      kind: 'source',
      build: (dir) => bundle(dir, `model_checkpoint_path: "${s.shadow}"\nall_model_checkpoint_paths: "/x/${s.shadow}"\n`),
    },
    {
      name: 'a TensorFlow state file with a secret timestamp',
      kind: 'source',
      build: (dir) => bundle(dir, `model_checkpoint_path: "export"\nall_model_checkpoint_timestamps: ${s.plain}\n`),
    },
    {
      name: 'a TensorFlow state file with a secret string',
      kind: 'source',
      build: (dir) => bundle(dir, `model_checkpoint_path: ${s.plain}\n`),
    },
    {
      name: 'a TensorFlow state file with a bad escape',
      kind: 'source',
      build: (dir) => bundle(dir, `model_checkpoint_path: "${s.plain}\\q"\n`),
    },
  ];
}

/** A workspace of ours with one good checkpoint, to be damaged. */
export async function ourWorkspace(root: string): Promise<{ root: string; checkpoint: string }> {
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('run', { parent: null, config: {} });
  const written = await writer.save(trainingState(1, { loss: 0.5 }));
  await writer.close();
  return { root, checkpoint: written.dir };
}

async function editJson(target: string, edit: (json: Record<string, unknown>) => void): Promise<void> {
  const json = JSON.parse(await readFile(target, 'utf8')) as Record<string, unknown>;
  edit(json);
  await writeFile(target, JSON.stringify(json));
}

/** Our own files: manifest.json, run.json, retention.json, a trash record, the verify cache. */
function workspaceCases(s: Secrets): SecretCase[] {
  const weird = `\u001b[31m${s.shadow}`;
  const damaged = (name: string, damage: (root: string, checkpoint: string) => Promise<void>): SecretCase => ({
    name,
    kind: 'workspace',
    build: async (dir) => {
      const { root, checkpoint } = await ourWorkspace(path.join(dir, 'ws'));
      await damage(root, checkpoint);
      return root;
    },
  });
  const manifest = (checkpoint: string): string => path.join(checkpoint, 'manifest.json');
  return [
    damaged('manifest.json is a password file', (_, c) => writeFile(manifest(c), `${s.shadow}\n`)),
    damaged('manifest.json is plain text', (_, c) => writeFile(manifest(c), `${s.plain}\n`)),
    damaged('manifest.json breaks after a secret', (_, c) => writeFile(manifest(c), `{"format": "checkpoint-studio", "run": ${s.plain}}`)),
    damaged('manifest.json with a secret metric', (_, c) => editJson(manifest(c), (m) => void (m['metrics'] = { [s.shadow]: s.shadow, [weird]: 'x' }))),
    damaged('manifest.json with a secret run', (_, c) => editJson(manifest(c), (m) => void (m['run'] = 7))),
    damaged('manifest.json with a secret tensor', (_, c) =>
      editJson(manifest(c), (m) => {
        const tensors = m['tensors'] as Record<string, unknown>[];
        (tensors[0] as Record<string, unknown>)['name'] = weird;
        (tensors[1] as Record<string, unknown>)['dtype'] = s.shadow;
      }),
    ),
    damaged('manifest.json with a secret tensor name', (_, c) =>
      editJson(manifest(c), (m) => {
        ((m['tensors'] as Record<string, unknown>[])[0] as Record<string, unknown>)['name'] = weird;
      }),
    ),
    damaged('manifest.json with a duplicate secret tensor', (_, c) =>
      editJson(manifest(c), (m) => {
        const tensors = m['tensors'] as Record<string, unknown>[];
        (tensors[0] as Record<string, unknown>)['name'] = weird;
        (tensors[1] as Record<string, unknown>)['name'] = weird;
      }),
    ),
    damaged('manifest.json with a secret foreign part', (_, c) =>
      editJson(manifest(c), (m) => {
        m['foreign'] = {
          format: s.shadow,
          formatLabel: s.shadow,
          name: s.shadow,
          linked: null,
          files: [{ name: `${s.shadow}.bin`, bytes: 8, role: 'tensors' }],
          step: null,
          stepSource: s.shadow,
          savedAt: null,
          tensors: [],
          notes: [],
        };
      }),
    ),
    damaged('manifest.json with a secret foreign format', (_, c) =>
      editJson(manifest(c), (m) => {
        m['foreign'] = {
          format: s.shadow,
          formatLabel: 'x',
          name: 'x',
          linked: null,
          files: [],
          step: null,
          stepSource: null,
          savedAt: null,
          tensors: [],
          notes: [],
        };
      }),
    ),
    damaged('run.json breaks after a secret', (root) => writeFile(path.join(root, 'run', 'run.json'), `{"name": ${s.shadow}}`)),
    damaged('run.json is plain text', (root) => writeFile(path.join(root, 'run', 'run.json'), s.plain)),
    damaged('retention.json is a password file', (root) => writeFile(path.join(root, 'run', 'retention.json'), s.shadow)),
    damaged('retention.json with secret pins', (root) => writeFile(path.join(root, 'run', 'retention.json'), JSON.stringify({ pinned: [7], [s.shadow]: 1 }))),
    damaged('a trash record that is a password file', (root) => file(root, '.trash/000000000001-0000/entry.json', s.shadow).then(() => undefined)),
    damaged('a trash record with secret fields', async (root) => {
      const record = {
        id: s.shadow,
        batch: s.shadow,
        originalPath: `run/${s.shadow}`,
        checkpointId: s.shadow,
        deletedAt: s.shadow,
        bytes: 1,
        reason: s.shadow,
      };
      await file(root, '.trash/000000000001-0000/entry.json', JSON.stringify(record));
      await file(root, `.trash/000000000002-0000/entry.json`, JSON.stringify({ ...record, id: '000000000002-0000', deletedAt: new Date().toISOString() }));
      await file(
        root,
        `.trash/000000000003-0000/entry.json`,
        JSON.stringify({ ...record, id: '000000000003-0000', batch: 'b', deletedAt: new Date().toISOString() }),
      );
    }),
    damaged('a verify cache and a lock of secrets', async (root) => {
      await file(root, '.studio/verified.json', s.shadow);
      await file(root, 'run/.lock', s.shadow);
    }),
    damaged('metrics.jsonl of secrets', (root) => file(root, 'run/metrics.jsonl', `${s.shadow}\n{"step": ${s.plain}}\n`).then(() => undefined)),
  ];
}

/** The four MNIST-format files, the training labels replaced by `content`. */
async function dataFolder(dir: string, content: Buffer): Promise<string> {
  const header = (magic: number, dims: number[]): Buffer => {
    const bytes = Buffer.alloc(4 + 4 * dims.length);
    bytes.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => bytes.writeUInt32BE(d, 4 + 4 * i));
    return bytes;
  };
  const images = Buffer.concat([header(0x803, [1, 28, 28]), Buffer.alloc(784)]);
  const labels = Buffer.concat([header(0x801, [1]), Buffer.alloc(1)]);
  const folder = path.join(dir, 'data');
  await file(folder, 'train-images-idx3-ubyte', images);
  await file(folder, 't10k-images-idx3-ubyte', images);
  await file(folder, 't10k-labels-idx1-ubyte', labels);
  await file(folder, 'train-labels-idx1-ubyte', content);
  return folder;
}

function otherCases(s: Secrets): SecretCase[] {
  return [
    { name: 'IDX labels that are a password file', kind: 'data', build: (dir) => dataFolder(dir, Buffer.from(s.shadow)) },
    { name: 'IDX labels of another type', kind: 'data', build: (dir) => dataFolder(dir, Buffer.concat([Buffer.from([0, 0, 0x2a, 1]), Buffer.from(s.plain)])) },
    { name: 'IDX labels of another rank', kind: 'data', build: (dir) => dataFolder(dir, Buffer.concat([Buffer.from([0, 0, 8, 0x71]), Buffer.from(s.plain)])) },
    { name: 'a settings file that is a password file', kind: 'settings', build: (dir) => file(dir, 'settings.json', s.shadow) },
    {
      name: 'a settings file with secret fields',
      kind: 'settings',
      build: (dir) => file(dir, 'settings.json', JSON.stringify({ recentWorkspaces: [5], view: { [s.shadow]: s.shadow } })),
    },
  ];
}

/** .keras zips (format keras-v3) with the secret in an entry's name, in metadata.json and as config.json. */
function kerasZipCases(s: Secrets): SecretCase[] {
  const weights = Buffer.from('not HDF5');
  const [metadata, config, model] = kerasEntries(weights);
  return [
    {
      name: 'a .keras zip with an entry named "../" and the secret',
      kind: 'source',
      build: async (dir) => {
        // yazl refuses such a name: written plain, then changed in place in both headers.
        const placeholder = `xx/${'a'.repeat(Buffer.byteLength(s.shadow))}`;
        const zip = await zipOf([...kerasEntries(weights), { name: placeholder, data: Buffer.from('x') }]);
        const hostile = Buffer.concat([Buffer.from('../'), Buffer.from(s.shadow)]);
        let at = zip.indexOf(placeholder);
        while (at >= 0) {
          hostile.copy(zip, at);
          at = zip.indexOf(placeholder, at + 1);
        }
        return file(dir, 'model.keras', zip);
      },
    },
    {
      name: 'a .keras zip whose metadata.json says the secret is its Keras version',
      kind: 'source',
      build: async (dir) => {
        const real = await kerasWeightsH5(path.join(dir, 'scratch.h5'));
        const entries = [{ name: 'metadata.json', data: Buffer.from(JSON.stringify({ keras_version: s.shadow })) }, config!, { ...model!, data: real }];
        return file(dir, 'model.keras', await zipOf(entries));
      },
    },
    {
      name: 'a .keras zip whose config.json is the secret',
      kind: 'source',
      build: async (dir) => file(dir, 'model.keras', await zipOf([metadata!, { name: 'config.json', data: Buffer.from(s.shadow) }, model!])),
    },
  ];
}

export function secretCases(s: Secrets): SecretCase[] {
  return [...safetensorsCases(s), ...tfjsCases(s), ...binaryCases(s), ...workspaceCases(s), ...otherCases(s), ...kerasZipCases(s)];
}

/** The real fixtures that damaged copies are made of: shared ones when present, else the repository's copies. */
function fixtureFolders(): string[] {
  const shared = [
    ['safetensors', 'hf-samples'],
    ['tf1-saver', 'serving-half-plus-two-exporter'],
    ['tf2-checkpoint', 'tictactoe-manager'],
    ['tfjs-layers', 'celsius-dense'],
    ['keras-h5', 'tictactoe'],
  ]
    .map((parts) => sharedFixture(...parts))
    .filter((found): found is string => found !== null);
  return shared.length > 0 ? shared : [testData('hf-safetensors-samples'), testData('tf-serving', 'half-plus-two-exporter')];
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir, { recursive: true })).map(String).sort()) {
    if ((await stat(path.join(dir, name))).isFile()) out.push(name);
  }
  return out;
}

/** `secret` over a seeded byte range of a seeded file of a copy of the fixture (or of our own checkpoint). */
export function damagedCases(s: Secrets, rng: Rng, perFixture: number): SecretCase[] {
  const sources = fixtureFolders().map((folder) => ({ label: path.basename(folder), folder }));
  const cases: SecretCase[] = [];
  for (const { label, folder } of [...sources, { label: 'our checkpoint', folder: null }]) {
    for (let i = 0; i < perFixture; i++) {
      const seed = rng.int(0, 2 ** 31);
      let needles: string[] = [];
      cases.push({
        name: `${label}, damaged (seed ${seed})`,
        kind: folder === null ? 'workspace' : 'source',
        needles: () => needles,
        build: async (dir) => {
          const local = new Rng(seed);
          let root: string;
          let within: string;
          if (folder === null) {
            const ours = await ourWorkspace(path.join(dir, 'ws'));
            root = ours.root;
            within = ours.checkpoint;
          } else {
            root = path.join(dir, label);
            await cp(folder, root, { recursive: true });
            within = root;
          }
          const names = await filesUnder(within);
          const target = path.join(within, local.pick(names));
          const bytes = await readFile(target);
          const secret = Buffer.from(s.shadow);
          // Often at the very start, where magic numbers and lengths are; else anywhere.
          const at = local.chance(0.3) ? local.int(0, Math.min(8, bytes.length)) : local.int(0, Math.max(1, bytes.length));
          const written = secret.copy(bytes, at, 0, Math.min(secret.length, bytes.length - at));
          await writeFile(target, bytes);
          // A number read across the secret's edge is part file, part secret: it must not be said either.
          needles = integerNeedles(bytes, at, at + written);
          return root;
        },
      });
    }
  }
  return cases;
}
