// What the store needs of the layer that reads other programs' formats. An imported checkpoint's
// manifest records a foreign part (its files, and each tensor's place and CRC in them); the store
// lists and moves such checkpoints, but decoding their bytes is the formats layer's. That layer
// hands the store a verifier when a workspace is opened, so nothing under checkpoint/ imports
// formats/ (a lint rule keeps it so).
import type { ForeignPart, Manifest } from './manifest.js';
import type { Problem } from './problem.js';

export type ManifestWithForeignPart = Manifest & { foreign: ForeignPart };

export function hasForeignPart(manifest: Manifest): manifest is ManifestWithForeignPart {
  return manifest.foreign !== undefined;
}

/** Checks every byte of a checkpoint's foreign part: each tensor's recorded CRC and the format's own checksums. */
export interface ForeignPartVerifier {
  verify(dir: string, manifest: ManifestWithForeignPart): Promise<Problem[]>;
}

/** For stores that are never asked to verify a foreign part (a trainer's own workspace): says why it was not checked. */
export const UNVERIFIABLE_FOREIGN_PARTS: ForeignPartVerifier = {
  verify: async (dir, manifest) => [{ file: dir, problem: `holds ${manifest.foreign.formatLabel} files, which this store was opened without a reader for` }],
};
