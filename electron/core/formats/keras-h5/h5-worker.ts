// Runs h5wasm (the HDF5 C library compiled to WebAssembly) in a worker thread, one file at a time.
// A damaged file can make the library trap (out-of-bounds memory access), leave its heap in an
// unknown state or loop: here that costs only this thread, which the caller ends. A worker whose
// file was read without any failure is kept for the next file (h5-file.ts): loading the library
// is most of the cost of reading a small file. HDF5's
// error stack is turned into an exception (h5wasm's throwing error handler) instead of being
// printed, and its most specific line becomes the caller's error message.
import { parentPort, workerData } from 'node:worker_threads';
import type { Dataset, Group } from 'h5wasm';
import type { H5Request, H5Response, H5Listing, H5DatasetInfo, H5WorkerStart } from './h5-protocol.js';
import { shown } from '../../base/describe-value.js';

/** A walk deeper than Keras files go, or over more objects, is a cycle of hard links or hostile. */
const MAX_DEPTH = 32;
const MAX_OBJECTS = 200_000;
/** Attributes longer than this are not descriptions of weights; they are not returned. */
const MAX_ATTRIBUTE_ELEMENTS = 100_000;
/** HDF5's H5T_class_t for floating-point types. */
const H5T_FLOAT = 1;

/** The most specific line of an HDF5 error stack (its last "in FUNC(): what" entry). */
function diagnosis(text: string): string | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const match = /#\d+: .* in [^(]+\(\): (.+)$/.exec(lines[i] as string);
    if (match) return match[1];
  }
  return undefined;
}

function post(response: H5Response, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(response, transfer);
}

/**
 * What the library said, without what it read from the file: HDF5 puts values after a colon or an
 * equals sign (`truncated file: eof = 608, sblock->base_addr = 0, stored_eof = <8 bytes of the
 * file>`) and names in quotes. What is left must be plain words, or it is not passed on.
 */
function withoutFileValues(text: string): string {
  const words = (text.split(/[:=]/)[0] ?? '')
    .replace(/(['"`]).*?\1/g, '')
    .replace(/[\s,(]+$/, '')
    .trim();
  return /^[A-Za-z][A-Za-z ,()_-]{0,119}$/.test(words) ? words : 'the HDF5 library refused it';
}

/** A failure of this worker's own making, whose message is ours to pass on. */
class WorkerProblem extends Error {}

/** What a trapped or aborted WebAssembly module says: its memory can no longer be trusted. */
const BROKEN_MODULE = /RuntimeError|out of bounds|unreachable|Aborted|abort\(/i;

function failure(error: unknown): H5Response {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof WorkerProblem) return { ok: false, message, recoverable: false };
  const found = diagnosis(message);
  // HDF5's own error stack is a clean refusal the library recovers from; anything else may have
  // left the module's memory in an unknown state.
  const recoverable = found !== undefined && !BROKEN_MODULE.test(message) && !(error instanceof WebAssembly.RuntimeError);
  return { ok: false, message: withoutFileValues(found ?? message.split('\n')[0] ?? 'unknown error'), recoverable };
}

// The library's own complaints (an abort's "Aborted(…)") would reach the app's stderr; the
// caller gets them as errors instead. Replaced before the library binds console at load.
console.error = () => undefined;
console.warn = () => undefined;

const start = workerData as H5WorkerStart;
const h5wasm = start.source === 'memory' ? await import('h5wasm') : await import('h5wasm/node');
const h5module = await h5wasm.ready;
h5module.activate_throwing_error_handler();
/** Where a memory worker's one file lives in the library's in-memory file system. */
const MEMORY_FILE = '/in-memory.h5';

function stringList(value: unknown): string[] | null {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return value;
  // h5py writes an empty list of names as an empty float array.
  if (ArrayBuffer.isView(value) && (value as unknown as { length: number }).length === 0) return [];
  return null;
}

function attributesOf(group: Group): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of Object.keys(group.attrs)) {
    const attr = group.attrs[name];
    if (!attr || (attr.metadata.total_size ?? 0) > MAX_ATTRIBUTE_ELEMENTS) continue;
    const list = stringList(attr.value);
    if (list) out[name] = list;
  }
  return out;
}

function datasetInfo(path: string, dataset: Dataset): H5DatasetInfo {
  const m = dataset.metadata;
  return {
    path,
    shape: m.shape ?? [],
    type: m.type,
    size: m.size,
    signed: m.signed,
    littleEndian: m.littleEndian,
    enumMembers: m.enum_type ? Object.keys(m.enum_type.members) : null,
  };
}

/** How often a listing says it is still moving (h5-file.ts gives up on one that falls silent). */
const PROGRESS_EVERY_MS = 250;

function list(root: Group): H5Listing {
  const listing: H5Listing = { groups: [], datasets: [], skipped: [] };
  let objects = 0;
  let said = performance.now();
  const progress = (): void => {
    const now = performance.now();
    if (now - said < PROGRESS_EVERY_MS) return;
    said = now;
    post({ ok: true, kind: 'progress' });
  };
  const walk = (group: Group, path: string, depth: number): void => {
    progress();
    listing.groups.push({ path, attributes: attributesOf(group) });
    if (depth >= MAX_DEPTH) throw new WorkerProblem(`groups nest deeper than ${MAX_DEPTH} levels at ${shown(`/${path}`)}`);
    for (const key of group.keys()) {
      objects += 1;
      progress();
      if (objects > MAX_OBJECTS) throw new WorkerProblem(`holds more than ${MAX_OBJECTS} objects`);
      const child = path === '' ? key : `${path}/${key}`;
      const entity = group.get(key);
      if (entity instanceof h5wasm.Group) walk(entity, child, depth + 1);
      else if (entity instanceof h5wasm.Dataset) listing.datasets.push(datasetInfo(child, entity));
      else listing.skipped.push(child);
    }
  };
  walk(root, '', 0);
  return listing;
}

function readDataset(root: Group, path: string): { bytes: ArrayBuffer } {
  const entity = root.get(path);
  if (!(entity instanceof h5wasm.Dataset)) throw new WorkerProblem(`${shown(`/${path}`)} is not a dataset`);
  const value = entity.value;
  if (ArrayBuffer.isView(value)) {
    const view = value as ArrayBufferView;
    return { bytes: view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer };
  }
  // h5wasm gives a scalar dataset as a plain number (or bigint, or boolean for an enum bool).
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return { bytes: scalarBytes(path, value, entity.metadata) };
  throw new WorkerProblem(`${shown(`/${path}`)} does not hold numbers`);
}

function scalarBytes(path: string, value: number | bigint | boolean, m: Dataset['metadata']): ArrayBuffer {
  const bytes = new ArrayBuffer(m.size);
  const view = new DataView(bytes);
  const n = typeof value === 'boolean' ? Number(value) : value;
  if (m.type === H5T_FLOAT && m.size === 4) view.setFloat32(0, Number(n), true);
  else if (m.type === H5T_FLOAT && m.size === 8) view.setFloat64(0, Number(n), true);
  else if (m.type !== H5T_FLOAT && m.size === 8) {
    if (m.signed) view.setBigInt64(0, BigInt(n), true);
    else view.setBigUint64(0, BigInt(n), true);
  } else if (m.type !== H5T_FLOAT && m.size === 4) {
    if (m.signed) view.setInt32(0, Number(n), true);
    else view.setUint32(0, Number(n), true);
  } else if (m.type !== H5T_FLOAT && m.size === 2) {
    if (m.signed) view.setInt16(0, Number(n), true);
    else view.setUint16(0, Number(n), true);
  } else if (m.type !== H5T_FLOAT && m.size === 1) {
    if (m.signed) view.setInt8(0, Number(n));
    else view.setUint8(0, Number(n));
  } else throw new WorkerProblem(`${shown(`/${path}`)} is a scalar of a type we cannot give back as bytes (class ${m.type}, ${m.size} bytes)`);
  return bytes;
}

let root: InstanceType<typeof h5wasm.File> | null = null;

/** Puts `bytes` into the in-memory file system (handing it over, not copying) and opens them. */
function openBytes(bytes: ArrayBuffer): void {
  const fs = h5wasm.FS;
  if (start.source !== 'memory' || fs === null) {
    post({ ok: false, message: 'this HDF5 worker reads files on disk, not bytes', recoverable: false });
    return;
  }
  try {
    // canOwn: the in-memory file keeps this buffer instead of copying it (emscripten's FS.writeFile option).
    fs.writeFile(MEMORY_FILE, new Uint8Array(bytes), { canOwn: true } as { flags?: string });
  } catch (error) {
    post(failure(error));
    return;
  }
  open(MEMORY_FILE);
}

function forgetBytes(): void {
  if (start.source === 'memory' && h5wasm.FS?.analyzePath(MEMORY_FILE).exists) h5wasm.FS.unlink(MEMORY_FILE);
}

function open(file: string): void {
  try {
    root = new h5wasm.File(file, 'r');
    // A file HDF5 cannot open still makes a File object; its id says whether it is one.
    if (root.file_id < 0n) throw new WorkerProblem('HDF5 could not open it');
    post({ ok: true, kind: 'ready' });
  } catch (error) {
    root = null;
    post(failure(error));
  }
}

if (start.source === 'disk') open(start.file);
else post({ ok: true, kind: 'ready' });

parentPort?.on('message', (request: H5Request) => {
  if (request.op === 'open' || request.op === 'open-bytes') {
    if (request.op === 'open') open(request.file);
    else openBytes(request.bytes);
    return;
  }
  if (request.op === 'close') {
    try {
      root?.close();
      root = null;
      forgetBytes();
      post({ ok: true, kind: 'closed' });
    } catch (error) {
      post(failure(error));
    }
    return;
  }
  if (!root) return;
  try {
    if (request.op === 'list') post({ ok: true, kind: 'list', listing: list(root) });
    else {
      const { bytes } = readDataset(root, request.path);
      post({ ok: true, kind: 'data', path: request.path, bytes }, [bytes]);
    }
  } catch (error) {
    post(failure(error));
  }
});
