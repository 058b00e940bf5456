// The seam "where the bytes live" (../shared/DESIGN.md): what the store, the catalog, verify and
// the trash need of a place that holds files, as one interface with a folder on disk and an S3
// prefix behind it. Keys are '/'-separated and relative to the workspace; nothing above this seam
// joins paths or names a bucket.

export interface StoredObject {
  /** Relative to the workspace, '/'-separated. */
  readonly key: string;
  readonly size: number;
  readonly modifiedMs: number;
  /** The store's tag of these bytes (S3's ETag), null where there is none. */
  readonly tag: string | null;
}

export interface ByteRange {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

export interface Children {
  readonly objects: readonly StoredObject[];
  /** The next level's folders ('a/b/' under 'a/'), each ending in '/'. */
  readonly folders: readonly string[];
}

/**
 * An object opened for reads at any offset: what a FileHandle does (a FileHandle is one), and
 * what an S3 object does by ranged GETs. The readers of tensor files are written against it.
 */
export interface RandomAccessFile {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

export interface UploadOptions {
  /** Kept with the object (S3 user metadata): how a writer marks what it wrote. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Refuse to replace an object already there (S3: If-None-Match: *). */
  readonly exclusive?: boolean;
  /**
   * Replace only the object of this tag (StoredObject.tag; S3: If-Match), so a read-change-write
   * of a small record cannot lose another writer's change. A store that ignores the condition
   * writes anyway: no worse than without it.
   */
  readonly ifMatch?: string;
}

export interface Storage {
  /** Where the workspace is, as a user writes it: a folder's path or s3://bucket/prefix/. */
  readonly address: string;
  /** A key as a user would find it (for messages). */
  locate(key: string): string;
  /**
   * The store's own clock (ms since the epoch), on which `modifiedMs` is told: for S3 the
   * server's, learnt from its answers' Date header, so two machines' clocks never disagree about
   * whether a lease ran out.
   */
  clock(): number;
  /** Every object under a prefix, at any depth, in key order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** One level under a prefix: its objects and its folders. */
  children(prefix: string): Promise<Children>;
  /** null when there is no such object. */
  stat(key: string): Promise<StoredObject | null>;
  read(key: string, range?: ByteRange): Promise<Uint8Array>;
  /** Opens an object for reads at any offset; null when there is no such object. */
  open(key: string): Promise<{ readonly file: RandomAccessFile; readonly size: number } | null>;
  /**
   * The same, for reads that begin at `start` (a tensor's bytes, not the file's header): an object
   * store's first request starts there instead of at byte 0. Where absent, `open` serves.
   */
  openAt?(key: string, start: number): Promise<{ readonly file: RandomAccessFile; readonly size: number } | null>;
  /** The object's bytes in order, in chunks, without holding it whole. */
  stream(key: string, range?: ByteRange): AsyncIterable<Uint8Array>;
  /** Writes a whole object; resolves false (and writes nothing) when the key exists with `exclusive`, or holds another tag than `ifMatch`. */
  write(key: string, body: Uint8Array | string, options?: UploadOptions): Promise<boolean>;
  /**
   * `write`, telling the store's tag of the bytes written (S3: the PUT's ETag), so a writer that
   * records the tag needs no HEAD after: null where the store told none, false where `exclusive`
   * found the key taken. Where absent, `write` and a `stat` serve.
   */
  writeTagged?(key: string, body: Uint8Array | string, options?: UploadOptions): Promise<{ readonly tag: string | null } | false>;
  /** Writes an object from a stream of chunks, in parts, with bounded memory; complete or absent. */
  upload(key: string, body: AsyncIterable<Uint8Array>, options?: UploadOptions): Promise<void>;
  /** Server-side copy where the store has it. */
  copy(from: string, to: string): Promise<void>;
  /** Deletes keys (absent ones are no error). */
  remove(keys: readonly string[]): Promise<void>;
}

// Added for the trash and the cleanup of an S3 workspace (issue 18): what only an object store
// with versions and multipart uploads has. A store that lacks them simply does not implement them.

/** One version of a key, or a delete marker, as a versioned bucket keeps them. */
export interface StoredVersion {
  readonly key: string;
  readonly versionId: string;
  /** The version a plain GET returns (for a delete marker: the key reads as absent). */
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
  readonly size: number;
  readonly modifiedMs: number;
  readonly tag: string | null;
}

export interface VersionedStorage extends Storage {
  /** The bucket's versioning: 'enabled' keeps every version and leaves delete markers. */
  versioning(): Promise<'enabled' | 'suspended' | 'off'>;
  /** Every version and delete marker under a prefix: keys in order, each key's newest first. */
  listVersions(prefix: string): AsyncIterable<StoredVersion>;
  /** One version's bytes. */
  readVersion(key: string, versionId: string): Promise<Uint8Array>;
  /** Server-side copy of one version to a key (a new latest version there). */
  copyVersion(from: string, versionId: string, to: string): Promise<void>;
  /** Removes these versions (or delete markers) for good; absent ones are no error. */
  removeVersions(versions: readonly { readonly key: string; readonly versionId: string }[]): Promise<void>;
}

/** A multipart upload begun and neither completed nor aborted. */
export interface PendingUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly initiatedMs: number;
}

export interface UploadsStorage extends Storage {
  /** The object with its user metadata (S3: HeadObject); null when there is no such object. */
  head(key: string): Promise<{ readonly object: StoredObject; readonly metadata: Readonly<Record<string, string>> } | null>;
  /** Multipart uploads in progress under a prefix. */
  listUploads(prefix: string): AsyncIterable<PendingUpload>;
  abortUpload(key: string, uploadId: string): Promise<void>;
}

export function isVersionedStorage(storage: Storage): storage is VersionedStorage {
  const s = storage as Partial<VersionedStorage>;
  return ['versioning', 'listVersions', 'readVersion', 'copyVersion', 'removeVersions'].every((m) => typeof s[m as keyof VersionedStorage] === 'function');
}

export function isUploadsStorage(storage: Storage): storage is UploadsStorage {
  const s = storage as Partial<UploadsStorage>;
  return typeof s.head === 'function' && typeof s.listUploads === 'function' && typeof s.abortUpload === 'function';
}
