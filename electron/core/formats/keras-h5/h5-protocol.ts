// The messages between the HDF5 worker and its caller. Replies are checked with these schemas:
// the worker runs a C library over untrusted bytes, and what comes back is treated as untrusted.
import { z } from 'zod';

export type H5Request =
  | { readonly op: 'open'; readonly file: string }
  /** A file's bytes, held in memory (an HDF5 file inside a zip): only a worker started for memory files takes it. */
  | { readonly op: 'open-bytes'; readonly bytes: ArrayBuffer }
  | { readonly op: 'close' }
  | { readonly op: 'list' }
  | { readonly op: 'read'; readonly path: string };

/**
 * How a worker is started: for files on disk (h5wasm's Node build, which reads the file system
 * directly) opening `file` at once, or for files in memory (its browser build, whose in-memory file
 * system holds the bytes) waiting for an open-bytes request.
 */
export type H5WorkerStart = { readonly source: 'disk'; readonly file: string } | { readonly source: 'memory' };

const DatasetInfoSchema = z.object({
  path: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  /** HDF5's H5T_class_t: 0 integer, 1 float, 8 enum, … */
  type: z.number().int(),
  size: z.number().int().nonnegative(),
  signed: z.boolean(),
  littleEndian: z.boolean(),
  enumMembers: z.array(z.string()).nullable(),
});
export type H5DatasetInfo = z.infer<typeof DatasetInfoSchema>;

const ListingSchema = z.object({
  groups: z.array(z.object({ path: z.string(), attributes: z.record(z.string(), z.array(z.string())) })),
  datasets: z.array(DatasetInfoSchema),
  /** Links and named types that are neither group nor dataset (external or broken links are not followed). */
  skipped: z.array(z.string()),
});
export type H5Listing = z.infer<typeof ListingSchema>;

export const H5ResponseSchema = z.union([
  z.object({ ok: z.literal(true), kind: z.literal('ready') }),
  z.object({ ok: z.literal(true), kind: z.literal('closed') }),
  /** Sent while a listing goes on (not an answer): the library is still moving through the file. */
  z.object({ ok: z.literal(true), kind: z.literal('progress') }),
  z.object({ ok: z.literal(true), kind: z.literal('list'), listing: ListingSchema }),
  z.object({ ok: z.literal(true), kind: z.literal('data'), path: z.string(), bytes: z.instanceof(ArrayBuffer) }),
  /** recoverable: HDF5 refused cleanly (its error stack), and the worker may serve another file. */
  z.object({ ok: z.literal(false), message: z.string(), recoverable: z.boolean().default(false) }),
]);
export type H5Response = z.infer<typeof H5ResponseSchema>;
