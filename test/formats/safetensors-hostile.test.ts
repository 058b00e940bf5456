// Hostile and damaged safetensors files: each case breaks one thing in a copy of a real sample
// file and expects a CheckpointFormatError naming the file (and where it can, the byte offset),
// covering tensor.rs `validate()` and the limits it applies before allocating anything.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { safetensorsReader } from '../../electron/core/formats/safetensors/reader.js';
import { formatErrorOf, openOne, readAll, sample, useTempDirs } from './safetensors-helpers.js';

const tempDir = useTempDirs();

/** overall.safetensors split into its header object and its data section. */
function overall(): { header: Record<string, unknown>; data: Buffer } {
  const bytes = fs.readFileSync(sample('overall'));
  const length = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>, data: bytes.subarray(8 + length) };
}

function writeFile(headerBytes: Buffer, data: Buffer, declared = BigInt(headerBytes.length)): string {
  const file = path.join(tempDir(), 'model.safetensors');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(declared);
  fs.writeFileSync(file, Buffer.concat([length, headerBytes, data]));
  return file;
}

/** overall.safetensors with its header changed by `edit`. */
function withHeader(edit: (header: Record<string, Record<string, unknown>>) => void, data = overall().data): string {
  const { header } = overall();
  edit(header as Record<string, Record<string, unknown>>);
  return writeFile(Buffer.from(JSON.stringify(header)), data);
}

async function refused(file: string, problem: RegExp, byteOffset?: number): Promise<void> {
  const error = await formatErrorOf(safetensorsReader.open(file), file);
  expect(error.problem).toMatch(problem);
  if (byteOffset !== undefined) expect(error.byteOffset).toBe(byteOffset);
}

describe('a damaged or hostile safetensors file is refused with the file named', () => {
  it('a header length over 100 MB, before anything that size is allocated', async () => {
    await refused(writeFile(Buffer.from('{}'), Buffer.alloc(0), 100_000_001n), /exceeds the limit of 100000000/, 0);
    await refused(writeFile(Buffer.from('{}'), Buffer.alloc(0), 0xffff_ffff_ffff_ffffn), /exceeds the limit/, 0);
  });

  it('a header length running past the end of the file, and a file under 8 bytes', async () => {
    await refused(
      writeFile(Buffer.from('{}'), Buffer.alloc(0), 4096n),
      /^not a safetensors file: the 8-byte header length at its start points past the end of the file \(10 bytes\)$/,
      0,
    );
    const tiny = path.join(tempDir(), 'tiny.safetensors');
    fs.writeFileSync(tiny, Buffer.from([1, 2, 3]));
    await refused(tiny, /shorter than the 8-byte/, 0);
  });

  it('a header that is not UTF-8, not JSON, or does not start with "{"', async () => {
    const { header, data } = overall();
    const text = Buffer.from(JSON.stringify(header));
    const badUtf8 = Buffer.from(text);
    badUtf8[text.indexOf('"B"') + 1] = 0xff;
    await refused(writeFile(badUtf8, data), /^not a safetensors file: the header is not UTF-8 text$/, 8);
    await refused(
      writeFile(Buffer.from(`${text.toString()}x`), data),
      /^not a safetensors file: the header is not valid JSON: a character that cannot stand there$/,
      8 + text.length,
    );
    await refused(writeFile(Buffer.from(` ${text.toString()}`), data), /does not start with "\{"/, 8);
    await refused(writeFile(Buffer.from('[1,2]'), Buffer.alloc(0)), /does not start with "\{"/);
  });

  it('overlapping, gapped and out-of-file offsets', async () => {
    await refused(
      withHeader((h) => {
        h['H']!['data_offsets'] = [4, 16];
      }),
      /tensor "H" starts at data offset 4, expected 6 \(gap or overlap\)/,
    );
    await refused(
      withHeader((h) => {
        h['B']!['data_offsets'] = [6, 12];
        h['H']!['data_offsets'] = [0, 12];
      }),
      /tensor "B" starts at data offset 6, expected 12/,
    );
    await refused(
      withHeader((h) => {
        h['i']!['data_offsets'] = [144, 168];
        h['h']!['data_offsets'] = [144, 156];
      }),
      /tensor "h" starts at data offset 144, expected 132 \(gap or overlap\)/,
    );
    const { data } = overall();
    await refused(
      withHeader(() => undefined, Buffer.concat([data, Buffer.from([0])])),
      /trailing bytes/,
    );
    await refused(
      withHeader(() => undefined, data.subarray(0, data.length - 1)),
      /truncated/,
    );
  });

  it('claimed sizes that do not match the shape, or are astronomically large', async () => {
    await refused(
      withHeader((h) => {
        h['f']!['shape'] = [7];
      }),
      /tensor "f": F32 \[7\] needs 28 bytes but data_offsets span 24/,
    );
    await refused(
      withHeader((h) => {
        h['i']!['shape'] = [1e15, 1e15];
        h['i']!['data_offsets'] = [144, 4e15];
      }),
      /tensor "i"/,
    );
    await refused(
      withHeader((h) => {
        h['d']!['data_offsets'] = [48, 2 ** 60];
      }),
      /tensor "d"/,
    );
    await refused(
      withHeader((h) => {
        h['d']!['shape'] = [-6];
      }),
      /shape \[-6\] is not a list of non-negative integers/,
    );
    await refused(
      withHeader((h) => {
        h['d']!['data_offsets'] = [48];
      }),
      /data_offsets \[48\] is not a pair/,
    );
  });

  it('an unknown dtype, a non-object entry, a non-string __metadata__ value', async () => {
    await refused(
      withHeader((h) => {
        h['f']!['dtype'] = 'F128';
      }),
      /tensor "f": unknown dtype "F128"/,
    );
    await refused(
      withHeader((h) => {
        (h as Record<string, unknown>)['f'] = [1, 2];
      }),
      /tensor "f": entry is an array, not an object/,
    );
    await refused(
      withHeader((h) => {
        h['__metadata__'] = { test: 1 };
      }),
      /"__metadata__.test" is not a string/,
    );
  });

  it('a pipe in place of the file fails at once instead of hanging', async () => {
    const fifo = path.join(tempDir(), 'model.safetensors');
    execFileSync('mkfifo', [fifo]);
    await refused(fifo, /named pipe/);
  });

  it('a file that changed between open and read is refused, and reading never writes', async () => {
    const file = withHeader(() => undefined);
    const before = fs.readFileSync(file);
    const checkpoint = await openOne(file);
    await readAll(checkpoint);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    fs.truncateSync(file, before.length - 10);
    const error = await formatErrorOf(readAll(checkpoint), file);
    expect(error.problem).toMatch(new RegExp(`is ${before.length - 10} bytes now, but was ${before.length} bytes when it was opened`));
  });

  it('a path that does not exist', async () => {
    const missing = path.join(tempDir(), 'nothing.safetensors');
    await refused(missing, /does not exist/);
  });
});
