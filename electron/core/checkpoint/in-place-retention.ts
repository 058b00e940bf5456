// The pins and retention policies of runs read in place, as one record (`.studio/in-place.json`),
// whichever storage holds it: in-place-records.ts keeps it in a folder, stored-in-place-records.ts
// in an S3 prefix. What both need the same way lives here, so their rules cannot drift apart.
import { z } from 'zod';
import { CheckpointFormatError, RefusedError } from '../base/errors.js';
import { parseJsonText } from '../base/parse-json.js';
import { type RunRetention, RunRetentionSchema } from './run-files.js';

const RecordsSchema = z.object({ version: z.literal(1), runs: z.record(z.string(), RunRetentionSchema) });

/** Parses the record's text; `where` names it in the error. */
export function parseInPlaceRecords(where: string, text: string): Map<string, RunRetention> {
  const parsed = RecordsSchema.safeParse(parseJsonText(where, text));
  // Pins protect data: a record we cannot read is an error to show, not an empty set of pins.
  if (!parsed.success) throw new CheckpointFormatError(where, 'not a record of runs read in place (their pins and policies); fix or remove it');
  return new Map(Object.entries(parsed.data.runs));
}

export function inPlaceRecordsText(runs: ReadonlyMap<string, RunRetention>): string {
  return `${JSON.stringify({ version: 1, runs: Object.fromEntries(runs) }, null, 2)}\n`;
}

/** `runs` with one run's record changed by `change`. */
export function withRunChanged(
  runs: ReadonlyMap<string, RunRetention>,
  run: string,
  change: (retention: RunRetention) => RunRetention,
): Map<string, RunRetention> {
  const next = new Map(runs);
  next.set(run, RunRetentionSchema.parse(change(next.get(run) ?? RunRetentionSchema.parse({}))));
  return next;
}

/** What the store asks of the records, wherever they are kept. */
export abstract class InPlaceRetention {
  protected runs = new Map<string, RunRetention>();
  /** Why the record cannot be read, if it cannot: listing goes on, but nothing is deleted or pruned by pins we cannot see. */
  protected problem: string | null = null;

  /** The record's path or address, for errors. */
  protected abstract where(): string;

  /** Throws when the record cannot be read: a pin we cannot see must still protect its checkpoint. */
  requireReadable(): void {
    if (this.problem !== null)
      throw new RefusedError(this.where(), `the pins and policies of runs read in place cannot be read, so nothing of theirs is deleted: ${this.problem}`);
  }

  retention(run: string): RunRetention {
    return this.runs.get(run) ?? RunRetentionSchema.parse({});
  }

  pinned(run: string): readonly string[] {
    return this.retention(run).pinned;
  }
}
