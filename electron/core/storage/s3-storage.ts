// The storage seam on an S3 prefix. Listing pages through 1,000 keys a request; reads are ranged
// GETs; whole small objects are one PUT (If-None-Match: * when exclusive: the store's only atomic
// "create once", which commits a checkpoint's manifest); large ones go up as parallel multipart
// uploads of bounded memory. Every request is counted by command, so the cost of a listing is
// known (bench:s3 prints it).
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import { type S3Address, formatS3Address } from './s3-address.js';
import { describeS3Error, isS3NotFound, isS3PreconditionFailed, s3ErrorName } from './s3-errors.js';
import { COPY_OBJECT_LIMIT, copyInParts } from './s3-multipart-copy.js';
import { S3ObjectReader } from './s3-object-reader.js';
import type {
  ByteRange,
  Children,
  PendingUpload,
  RandomAccessFile,
  StoredObject,
  StoredVersion,
  UploadOptions,
  UploadsStorage,
  VersionedStorage,
} from './storage.js';

/** Multipart parts: S3's minimum is 5 MiB; 8 MiB × 4 in flight bounds an upload's memory at 32 MiB. */
export const PART_BYTES = 8 * 1024 * 1024;
export const PARTS_IN_FLIGHT = 4;
/** DeleteObjects takes at most 1,000 keys a request. */
const DELETE_BATCH = 1000;

export class S3Storage implements VersionedStorage, UploadsStorage {
  readonly address: string;
  /** Requests sent, by command name (ListObjectsV2Command…), retries not counted. */
  readonly requests = new Map<string, number>();
  /** The server's clock minus ours, from the last answer's Date header (0 until one came). */
  private clockOffsetMs = 0;
  /** This bucket refused an If-Match that held (Ceph in a versioned bucket): conditions on replacing are not sent to it. */
  private ifMatchRefused = false;

  constructor(
    readonly client: S3Client,
    readonly where: S3Address,
    private readonly endpoint: string | null,
    /** The AWS profile the client was made with, to name in an error about credentials. */
    private readonly profile: string | null = null,
  ) {
    this.address = formatS3Address(where);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? 'unknown';
        this.requests.set(command, (this.requests.get(command) ?? 0) + 1);
        return next(args);
      },
      // Unnamed: several storages may share one client, each counting its own requests.
      { step: 'initialize' },
    );
    client.middlewareStack.add(
      (next) => async (args) => {
        const sent = Date.now();
        const result = await next(args);
        const date = (result.response as { headers?: Record<string, string> } | undefined)?.headers?.['date'];
        const server = date === undefined ? Number.NaN : Date.parse(date);
        // The Date header has whole seconds: the middle of the request's span is the best guess of ours.
        if (Number.isFinite(server)) this.clockOffsetMs = server + 500 - (sent + Date.now()) / 2;
        return result;
      },
      { step: 'deserialize' },
    );
  }

  clock(): number {
    return Date.now() + this.clockOffsetMs;
  }

  locate(key: string): string {
    return `${this.address}${key}`;
  }

  private full(key: string): string {
    return `${this.where.prefix}${key}`;
  }

  private relative(fullKey: string): string {
    return fullKey.slice(this.where.prefix.length);
  }

  private failed(error: unknown, key: string): Error {
    return describeS3Error(error, this.locate(key), this.endpoint, this.profile);
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.where.bucket, Prefix: this.full(prefix), ContinuationToken: token }));
      } catch (error) {
        throw this.failed(error, prefix);
      }
      for (const item of page.Contents ?? []) if (item.Key !== undefined) yield this.object(item.Key, item.Size, item.LastModified, item.ETag);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async children(prefix: string): Promise<Children> {
    const objects: StoredObject[] = [];
    const folders: string[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.where.bucket, Prefix: this.full(prefix), Delimiter: '/', ContinuationToken: token }),
        );
      } catch (error) {
        throw this.failed(error, prefix);
      }
      for (const item of page.Contents ?? []) if (item.Key !== undefined) objects.push(this.object(item.Key, item.Size, item.LastModified, item.ETag));
      for (const common of page.CommonPrefixes ?? []) if (common.Prefix !== undefined) folders.push(this.relative(common.Prefix));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return { objects, folders };
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key: this.full(key) }));
      return this.object(this.full(key), head.ContentLength, head.LastModified, head.ETag);
    } catch (error) {
      if (isS3NotFound(error)) return null;
      throw this.failed(error, key);
    }
  }

  async read(key: string, range?: ByteRange): Promise<Uint8Array> {
    if (range !== undefined && range.end <= range.start) return new Uint8Array(0);
    try {
      const got = await this.client.send(
        new GetObjectCommand({ Bucket: this.where.bucket, Key: this.full(key), ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}) }),
      );
      if (!got.Body) return new Uint8Array(0);
      return await got.Body.transformToByteArray();
    } catch (error) {
      throw this.failed(error, key);
    }
  }

  async open(key: string): Promise<{ file: RandomAccessFile; size: number } | null> {
    return this.openFrom(key, 0);
  }

  async openAt(key: string, start: number): Promise<{ file: RandomAccessFile; size: number } | null> {
    return this.openFrom(key, start);
  }

  private async openFrom(key: string, start: number): Promise<{ file: RandomAccessFile; size: number } | null> {
    // The first GET is of the object from `start` to its end, streamed as it is read: it tells the
    // size and the ETag (no HEAD first), and reads from `start` on continue it.
    let first;
    try {
      first = await this.client.send(
        new GetObjectCommand({ Bucket: this.where.bucket, Key: this.full(key), ...(start > 0 ? { Range: `bytes=${start}-` } : {}) }),
      );
    } catch (error) {
      if (isS3NotFound(error)) return null;
      // Past the end (416): opened from its start, as `open` does; the read there then says where it ends.
      if (start > 0 && s3ErrorName(error) === 'InvalidRange') return this.openFrom(key, 0);
      throw this.failed(error, key);
    }
    // A ranged answer's Content-Range ends with the object's size (`bytes 100-199/1000`).
    const total = start > 0 ? Number(/\/(\d+)$/.exec(first.ContentRange ?? '')?.[1] ?? Number.NaN) : (first.ContentLength ?? 0);
    const object = { size: Number.isFinite(total) ? total : start + (first.ContentLength ?? 0) };
    // Later GETs are pinned to the bytes the first one read: an object replaced meanwhile fails
    // the read (412) instead of mixing two versions' bytes.
    const tag = first.ETag || undefined;
    const openFrom = async (from: number): Promise<AsyncIterable<Uint8Array> & { destroy?: () => void }> => {
      try {
        const got = await this.client.send(
          new GetObjectCommand({ Bucket: this.where.bucket, Key: this.full(key), Range: `bytes=${from}-${object.size - 1}`, ...(tag ? { IfMatch: tag } : {}) }),
        );
        // In Node the body is an http.IncomingMessage: a readable stream of Buffers, destroyable.
        return (got.Body ?? []) as AsyncIterable<Uint8Array> & { destroy?: () => void };
      } catch (error) {
        throw this.failed(error, key);
      }
    };
    const file = new S3ObjectReader(openFrom, object.size, (first.Body ?? []) as AsyncIterable<Uint8Array> & { destroy?: () => void }, start);
    // A failure while the body streams (the connection dropped) is named as any other.
    const read = (buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> =>
      file.read(buffer, offset, length, position).catch((error: unknown) => {
        throw error instanceof Error && 'code' in error && typeof error.code === 'string' && ['not-found', 'refused', 'io'].includes(error.code)
          ? error
          : this.failed(error, key);
      });
    return { file: { read, close: () => file.close() }, size: object.size };
  }

  async *stream(key: string, range?: ByteRange): AsyncIterable<Uint8Array> {
    if (range !== undefined && range.end <= range.start) return;
    let body: AsyncIterable<Uint8Array>;
    try {
      const got = await this.client.send(
        new GetObjectCommand({ Bucket: this.where.bucket, Key: this.full(key), ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}) }),
      );
      if (!got.Body) return;
      // In Node the body is an http.IncomingMessage: a readable stream of Buffers.
      body = got.Body as unknown as AsyncIterable<Uint8Array>;
    } catch (error) {
      throw this.failed(error, key);
    }
    try {
      for await (const chunk of body) yield chunk;
    } catch (error) {
      throw this.failed(error, key);
    }
  }

  async write(key: string, body: Uint8Array | string, options: UploadOptions = {}): Promise<boolean> {
    return (await this.writeTagged(key, body, options)) !== false;
  }

  async writeTagged(key: string, body: Uint8Array | string, options: UploadOptions = {}): Promise<{ tag: string | null } | false> {
    if (options.ifMatch !== undefined && !this.ifMatchRefused) return this.writeIfMatch(key, body, options, options.ifMatch);
    return this.put(key, body, options, options.exclusive ? { IfNoneMatch: '*' } : {});
  }

  /**
   * Ceph's gateway (16.2) matches If-Match on a PUT against the bare ETag, AWS against either form:
   * the bare one first, the quoted one for a store that wants the header as it sent it. In a
   * versioned bucket the same gateway refuses every If-Match: when the object still holds the
   * tag, the condition is what failed, and this bucket is written without it from then on (as
   * before conditions were used: two writers at once may lose one change, never an object).
   */
  private async writeIfMatch(key: string, body: Uint8Array | string, options: UploadOptions, tag: string): Promise<{ tag: string | null } | false> {
    const bare = tag.replace(/^"|"$/g, '');
    const written = (await this.put(key, body, options, { IfMatch: bare })) || (await this.put(key, body, options, { IfMatch: `"${bare}"` }));
    if (written !== false) return written;
    const now = await this.stat(key);
    if (now?.tag?.replace(/^"|"$/g, '') !== bare) return false;
    this.ifMatchRefused = true;
    return this.put(key, body, options, {});
  }

  /** One PUT; false when its condition failed. */
  private async put(
    key: string,
    body: Uint8Array | string,
    options: UploadOptions,
    condition: { IfNoneMatch?: string; IfMatch?: string },
  ): Promise<{ tag: string | null } | false> {
    try {
      const put = await this.client.send(
        new PutObjectCommand({
          Bucket: this.where.bucket,
          Key: this.full(key),
          Body: body,
          ...(options.metadata ? { Metadata: { ...options.metadata } } : {}),
          ...condition,
        }),
      );
      return { tag: put.ETag || null };
    } catch (error) {
      if (Object.keys(condition).length > 0 && isS3PreconditionFailed(error)) return false;
      throw this.failed(error, key);
    }
  }

  async upload(key: string, body: AsyncIterable<Uint8Array>, options: Omit<UploadOptions, 'exclusive'> = {}): Promise<void> {
    const upload = new Upload({
      client: this.client,
      queueSize: PARTS_IN_FLIGHT,
      partSize: PART_BYTES,
      // A failed upload is aborted at once; one left by a killed writer carries our metadata, and
      // is cleaned up later by who finds its writer's lease expired.
      leavePartsOnError: false,
      params: { Bucket: this.where.bucket, Key: this.full(key), Body: Readable.from(body), ...(options.metadata ? { Metadata: { ...options.metadata } } : {}) },
    });
    try {
      await upload.done();
    } catch (error) {
      throw this.failed(error, key);
    }
  }

  async copy(from: string, to: string): Promise<void> {
    await this.copyFrom(from, null, to);
  }

  async copyVersion(from: string, versionId: string, to: string): Promise<void> {
    await this.copyFrom(from, versionId, to);
  }

  /** Objects larger than this are copied in parts (S3's CopyObject limit; lowered by tests). */
  copyLimitBytes = COPY_OBJECT_LIMIT;
  /** The parts of such a copy (lowered by tests; at least 5 MiB). */
  copyPartBytes: number | undefined = undefined;

  private async copyFrom(from: string, versionId: string | null, to: string): Promise<void> {
    const key = encodeURIComponent(this.full(from)).replace(/%2F/g, '/');
    const source = `${this.where.bucket}/${key}${versionId === null ? '' : `?versionId=${encodeURIComponent(versionId)}`}`;
    try {
      // The size decides how it is copied; the ETag pins the copy to the bytes measured.
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.where.bucket, Key: this.full(from), ...(versionId === null ? {} : { VersionId: versionId }) }),
      );
      const size = head.ContentLength ?? 0;
      if (size > this.copyLimitBytes) {
        await copyInParts(this.client, {
          bucket: this.where.bucket,
          source,
          to: this.full(to),
          size,
          metadata: head.Metadata ?? {},
          ...(head.ETag ? { sourceTag: head.ETag } : {}),
          ...(head.ContentType ? { contentType: head.ContentType } : {}),
          ...(this.copyPartBytes === undefined ? {} : { partBytes: this.copyPartBytes }),
        });
        return;
      }
      await this.client.send(
        new CopyObjectCommand({ Bucket: this.where.bucket, Key: this.full(to), CopySource: source, ...(head.ETag ? { CopySourceIfMatch: head.ETag } : {}) }),
      );
    } catch (error) {
      throw this.failed(error, from);
    }
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (let at = 0; at < keys.length; at += DELETE_BATCH) {
      const batch = keys.slice(at, at + DELETE_BATCH);
      let answer;
      try {
        answer = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.where.bucket, Delete: { Objects: batch.map((k) => ({ Key: this.full(k) })), Quiet: true } }),
        );
      } catch (error) {
        throw this.failed(error, batch[0] ?? '');
      }
      const refused = answer.Errors?.[0];
      if (refused) throw this.failed({ name: refused.Code }, this.relative(refused.Key ?? ''));
    }
  }

  async versioning(): Promise<'enabled' | 'suspended' | 'off'> {
    try {
      const got = await this.client.send(new GetBucketVersioningCommand({ Bucket: this.where.bucket }));
      return got.Status === 'Enabled' ? 'enabled' : got.Status === 'Suspended' ? 'suspended' : 'off';
    } catch (error) {
      throw this.failed(error, '');
    }
  }

  async *listVersions(prefix: string): AsyncIterable<StoredVersion> {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectVersionsCommand({ Bucket: this.where.bucket, Prefix: this.full(prefix), KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
        );
      } catch (error) {
        throw this.failed(error, prefix);
      }
      const found: StoredVersion[] = [];
      for (const v of page.Versions ?? [])
        if (v.Key !== undefined && v.VersionId !== undefined)
          found.push({ ...this.object(v.Key, v.Size, v.LastModified, v.ETag), versionId: v.VersionId, isLatest: v.IsLatest === true, deleteMarker: false });
      for (const m of page.DeleteMarkers ?? [])
        if (m.Key !== undefined && m.VersionId !== undefined)
          found.push({ ...this.object(m.Key, 0, m.LastModified, undefined), versionId: m.VersionId, isLatest: m.IsLatest === true, deleteMarker: true });
      // The SDK parts versions from markers; put them back in the store's order: by key, newest
      // first (LastModified has whole seconds: of two in one second, the latest one first).
      found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : b.modifiedMs - a.modifiedMs || Number(b.isLatest) - Number(a.isLatest)));
      yield* found;
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      versionMarker = more ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  }

  async readVersion(key: string, versionId: string): Promise<Uint8Array> {
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.full(key), VersionId: versionId }));
      return got.Body ? await got.Body.transformToByteArray() : new Uint8Array(0);
    } catch (error) {
      throw this.failed(error, key);
    }
  }

  async removeVersions(versions: readonly { readonly key: string; readonly versionId: string }[]): Promise<void> {
    for (let at = 0; at < versions.length; at += DELETE_BATCH) {
      const batch = versions.slice(at, at + DELETE_BATCH);
      let answer;
      try {
        answer = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.where.bucket,
            Delete: { Objects: batch.map((v) => ({ Key: this.full(v.key), VersionId: v.versionId })), Quiet: true },
          }),
        );
      } catch (error) {
        throw this.failed(error, batch[0]?.key ?? '');
      }
      const refused = answer.Errors?.find((e) => e.Code !== 'NoSuchVersion' && e.Code !== 'NoSuchKey');
      if (refused) throw this.failed({ name: refused.Code }, this.relative(refused.Key ?? ''));
    }
  }

  async head(key: string): Promise<{ object: StoredObject; metadata: Readonly<Record<string, string>> } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key: this.full(key) }));
      return { object: this.object(this.full(key), head.ContentLength, head.LastModified, head.ETag), metadata: head.Metadata ?? {} };
    } catch (error) {
      if (isS3NotFound(error)) return null;
      throw this.failed(error, key);
    }
  }

  async *listUploads(prefix: string): AsyncIterable<PendingUpload> {
    let keyMarker: string | undefined;
    let uploadMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.where.bucket, Prefix: this.full(prefix), KeyMarker: keyMarker, UploadIdMarker: uploadMarker }),
        );
      } catch (error) {
        throw this.failed(error, prefix);
      }
      for (const u of page.Uploads ?? [])
        if (u.Key !== undefined && u.UploadId !== undefined)
          yield { key: this.relative(u.Key), uploadId: u.UploadId, initiatedMs: u.Initiated?.getTime() ?? 0 };
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      uploadMarker = more ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.where.bucket, Key: this.full(key), UploadId: uploadId }));
    } catch (error) {
      // Completed or aborted meanwhile: gone either way.
      if (s3ErrorName(error) === 'NoSuchUpload' || isS3NotFound(error)) return;
      throw this.failed(error, key);
    }
  }

  private object(fullKey: string, size: number | undefined, modified: Date | undefined, etag: string | undefined): StoredObject {
    return { key: this.relative(fullKey), size: size ?? 0, modifiedMs: modified?.getTime() ?? 0, tag: etag === undefined || etag === '' ? null : etag };
  }
}
