// The trash of a workspace on an object store (S3), with the local trash's meaning for the user:
// entries numbered by batch, a reason, `undo` of the newest batch, restore refused where a
// checkpoint exists again, purge by age or batch. There is no rename: the bucket's versions hide
// a deleted object where versioning is on, else a copy under `.trash/<batch>/` keeps it
// (stored-trash-versions.ts, stored-trash-copy.ts). Each batch's journal is written before the
// first change, and every object is kept before any original is deleted. A deletion that fails
// before its first delete is rolled back at once (the user is told, nothing changed). One found
// unfinished on open (its process was killed) is finished, not rolled back: from its first delete
// (the manifest) the checkpoint had already gone for every reader, and finishing is the same work
// a deleter still at it would do, so the two never undo each other. Undo is there for the user.
// Guards (pins, locks, policies) are the caller's: this only moves.
import type { PurgeResult, TrashEntry, TrashProblem } from '../../contract.js';
import { NotFoundError, RefusedError, errorMessage } from '../base/errors.js';
import { type Storage, type StoredObject, isVersionedStorage } from '../storage/storage.js';
import { TRASH_DIR, parseCheckpointDirName, runNameProblem } from './layout.js';
import { showName } from './names.js';
import { CopyTrash } from './stored-trash-copy.js';
import {
  type Journal,
  type ParsedJournal,
  type JournalEntry,
  type StoredInPlaceOrigin,
  claimBatch,
  inPlaceProblem,
  journalBatch,
  journalKey,
  parseJournal,
  payloadKey,
  serializeJournal,
  toTrashEntry,
} from './stored-trash-journal.js';
import { type TrashMode, checkpointObjects } from './stored-trash-mode.js';
import { VersionsTrash } from './stored-trash-versions.js';
import { entryId } from './trash-layout.js';
import { mapLimited } from './stored-trash-work.js';
import { applyRewrites, assertRewritable, putBackRewrites, rewriteUndoProblem } from './stored-trash-rewrites.js';

export interface StoredTrashTarget {
  readonly checkpointId: string;
  readonly run: string;
  readonly step: number;
  /** The checkpoint's folder key, ending in '/' (StoredCheckpointEntry.folder). */
  readonly folder: string;
  readonly bytes: number;
  /** Another program's checkpoint read in place: which of its folder's objects are it, and what beside it changes. */
  readonly inPlace?: { readonly origin: StoredInPlaceOrigin; readonly objects: readonly StoredObject[] };
}

const READS_IN_FLIGHT = 8;
/** Checkpoints moved at once (each with a few requests of its own in flight). */
const ENTRIES_IN_FLIGHT = 8;

interface Found {
  readonly journal: Journal;
  readonly entry: JournalEntry;
  readonly trashEntry: TrashEntry;
}

interface Scan {
  readonly journals: readonly Journal[];
  /** Entries still in the trash, newest batch first. */
  readonly found: readonly Found[];
  readonly problems: TrashProblem[];
}

const dirNameOf = (target: StoredTrashTarget): string => target.folder.slice(target.run.length + 1, -1);

/** Why a target is not a checkpoint folder directly in a run of ours, or null. */
function targetProblem(target: StoredTrashTarget): string | null {
  if (target.inPlace) return inPlaceProblem(target.inPlace.origin, target.inPlace.objects);
  const runProblem = runNameProblem(target.run);
  if (runProblem) return `not a checkpoint of a run: ${runProblem}`;
  if (!target.folder.startsWith(`${target.run}/`) || parseCheckpointDirName(dirNameOf(target)) !== target.step)
    return `not the checkpoint folder of step ${target.step} of run ${showName(target.run)}`;
  return null;
}

function newestFirst(a: Found, b: Found): number {
  return Number(b.journal.batch) - Number(a.journal.batch) || a.entry.id.localeCompare(b.entry.id);
}

export class StoredTrash {
  private constructor(
    private readonly storage: Storage,
    /** How this process deletes: by the bucket's versions when it keeps them. */
    private readonly mode: TrashMode,
    private readonly modes: { readonly copy: TrashMode; readonly versions: TrashMode | null },
    private readonly now: () => number,
  ) {}

  private readonly journalCache = new Map<string, { readonly tag: string; readonly parsed: ParsedJournal }>();
  /** Deletions found half done on open that could not be finished then. */
  private readonly unfinished: TrashProblem[] = [];

  /** Learns whether the bucket keeps versions; finishes a batch a crash left half done. */
  static async open(storage: Storage, options: { now?: () => number; readOnly?: boolean } = {}): Promise<StoredTrash> {
    // Versions kept only while "suspended" are not enough: a delete there removes the unversioned object.
    const versions = isVersionedStorage(storage) ? new VersionsTrash(storage) : null;
    const enabled = versions !== null && isVersionedStorage(storage) && (await storage.versioning()) === 'enabled';
    const copy = new CopyTrash(storage);
    const trash = new StoredTrash(storage, enabled && versions ? versions : copy, { copy, versions }, options.now ?? (() => storage.clock()));
    // Reading changes nothing: a read-only opening lists the trash as it is (an unfinished batch shows as such).
    if (!options.readOnly) await trash.recover();
    return trash;
  }

  /** Versions where the bucket keeps them on, else copies. */
  get kind(): TrashMode['name'] {
    return this.mode.name;
  }

  private modeOf(journal: Journal): TrashMode | null {
    return journal.mode === 'copy' ? this.modes.copy : this.modes.versions;
  }

  /** Deletions a crash (or a failure) left half done are finished; one that cannot be now is reported by list(). */
  private async recover(): Promise<void> {
    const { journals } = await this.scan();
    for (const journal of journals) {
      if (journal.state !== 'moving') continue;
      try {
        await this.finish(journal);
      } catch (error) {
        this.unfinished.push({
          name: showName(journalKey(journal.batch)),
          problem: `a deletion that stopped halfway could not be finished (${errorMessage(error)}); it is tried again on the next open`,
        });
      }
    }
  }

  /** Keeps every entry's objects, then deletes the originals: nothing is deleted before all is kept. */
  private async finish(journal: Journal): Promise<void> {
    const mode = this.modeOf(journal);
    if (mode === null) return;
    await mapLimited(journal.entries, ENTRIES_IN_FLIGHT, (entry) => mode.keep(journal, entry));
    await this.hide(mode, journal);
  }

  private async hide(mode: TrashMode, journal: Journal): Promise<void> {
    // A batch its deleter rolled back (its journal goes first) is not finished by anyone else.
    if ((await this.storage.stat(journalKey(journal.batch))) === null) return;
    await mapLimited(journal.entries, ENTRIES_IN_FLIGHT, (entry) => mode.hide(journal, entry));
    await applyRewrites(this.storage, journal.entries);
    await this.storage.write(journalKey(journal.batch), serializeJournal({ ...journal, state: 'done' }));
  }

  /** Moves checkpoints to the trash as one batch (one undo). */
  async trash(targets: readonly StoredTrashTarget[], reason: string): Promise<TrashEntry[]> {
    const unique = targets.filter((t, at) => targets.findIndex((u) => u.folder === t.folder) === at);
    if (unique.length === 0) return [];
    const snapshots = await mapLimited(unique, READS_IN_FLIGHT, async (target) => {
      const problem = targetProblem(target);
      if (problem) throw new RefusedError(this.storage.locate(target.folder), problem);
      if (target.inPlace) return this.mode.snapshot(target.inPlace.origin.prefix, target.inPlace.objects);
      return this.mode.snapshot(target.folder, await checkpointObjects(this.storage, target.folder));
    });
    await assertRewritable(this.storage, [...new Map(unique.flatMap((t) => t.inPlace?.origin.rewrites ?? []).map((r) => [r.key, r])).values()]);
    const journal = await claimBatch(this.storage, (batch) => ({
      version: 1,
      batch,
      mode: this.mode.name,
      state: 'moving',
      deletedAt: new Date(this.now()).toISOString(),
      reason,
      entries: unique.map((t, at) => ({
        id: entryId(batch, at),
        run: t.run,
        dirName: t.inPlace ? t.inPlace.origin.checkpointId : dirNameOf(t),
        step: t.step,
        folder: t.inPlace ? t.inPlace.origin.prefix : t.folder,
        bytes: t.bytes,
        objects: snapshots[at] ?? [],
        ...(t.inPlace ? { inPlace: t.inPlace.origin } : {}),
      })),
    }));
    try {
      await mapLimited(journal.entries, ENTRIES_IN_FLIGHT, (entry) => this.mode.keep(journal, entry));
    } catch (error) {
      // Nothing was deleted yet: the batch is undone at once, its journal first (or, failing
      // that too, it is finished on the next open).
      await this.mode.rollBack(journal).catch(() => undefined);
      throw error;
    }
    // A failure from here on leaves the journal `moving`: the next open finishes the deletion.
    await this.hide(this.mode, journal);
    return journal.entries.map((e) => toTrashEntry(journal, e));
  }

  /** Reads every journal under `.trash/` and which of their entries are still in the trash. */
  private async scan(): Promise<Scan> {
    const objects = new Map<string, StoredObject>();
    for await (const object of this.storage.list(`${TRASH_DIR}/`)) objects.set(object.key, object);
    const keys = new Set(objects.keys());
    const problems: TrashProblem[] = [];
    const journalKeys = [...keys].filter((k) => journalBatch(k) !== null);
    const read = await mapLimited(journalKeys, READS_IN_FLIGHT, async (key) => {
      const parsed = await this.readJournal(key, objects.get(key)?.tag ?? null);
      if (!parsed.ok) problems.push({ name: showName(key), problem: `${parsed.problem}; left alone` });
      return parsed.ok ? parsed.journal : null;
    });
    const journals = read.filter((j): j is Journal => j !== null);
    const explained = new Set(journalKeys);
    for (const journal of journals) for (const entry of journal.entries) for (const o of entry.objects) explained.add(payloadKey(journal.batch, o.key));
    for (const key of keys) if (!explained.has(key)) problems.push({ name: showName(key), problem: 'is not a trash entry of ours; left alone' });
    const found: Found[] = [];
    for (const mode of [this.modes.copy, this.modes.versions]) {
      const ofMode = journals.filter((j) => this.modeOf(j) === mode);
      if (mode === null || ofMode.length === 0) continue;
      const present = await mode.inTrash(ofMode, keys);
      ofMode.forEach((journal, j) =>
        journal.entries.forEach((entry, at) => {
          // A change that moved nothing (Make latest) is in the trash until it is undone or purged: while its journal is.
          if (present[j]?.[at] || entry.objects.length === 0) found.push({ journal, entry, trashEntry: toTrashEntry(journal, entry) });
        }),
      );
    }
    for (const journal of journals)
      if (this.modeOf(journal) === null)
        problems.push({
          name: showName(journalKey(journal.batch)),
          problem: 'was made with the bucket\u2019s versions, which this store cannot reach; left alone',
        });
    return { journals, found: found.sort(newestFirst), problems };
  }

  /** A journal, read once per version of it (its ETag): a trash of many batches lists with one GET per change. */
  private async readJournal(key: string, tag: string | null): Promise<ParsedJournal> {
    const cached = this.journalCache.get(key);
    if (tag !== null && cached?.tag === tag) return cached.parsed;
    const parsed = parseJournal(key, new TextDecoder().decode(await this.storage.read(key)));
    if (tag !== null) this.journalCache.set(key, { tag, parsed });
    return parsed;
  }

  /** What the trash holds, newest batch first, and what in it cannot be used. */
  async list(): Promise<{ entries: TrashEntry[]; problems: TrashProblem[] }> {
    const scan = await this.scan();
    return { entries: scan.found.map((f) => f.trashEntry), problems: [...this.unfinished, ...scan.problems] };
  }

  /** Puts entries back where they were: all of them, or none if any cannot go back. */
  async restore(ids: readonly string[]): Promise<TrashEntry[]> {
    const scan = await this.scan();
    const chosen: Found[] = [];
    for (const id of new Set(ids)) {
      const found = scan.found.find((f) => f.entry.id === id);
      if (!found) throw new NotFoundError(showName(id), 'no such entry in the trash (see: checkpoint-studio trash ls)');
      chosen.push(found);
    }
    const refusals = (
      await mapLimited([...chosen.entries()], ENTRIES_IN_FLIGHT, async ([at, found]) => {
        const twice = chosen.findIndex((f) => f.entry.folder === found.entry.folder) !== at;
        const problem =
          found.entry.objects.length === 0
            ? await rewriteUndoProblem(this.storage, found.entry)
            : await this.modeOf(found.journal)?.restoreProblem(found.journal, found.entry);
        return [
          ...(twice ? [`${found.entry.id}: another entry being restored goes to ${found.trashEntry.originalPath} too`] : []),
          ...(problem ? [`${found.entry.id}: ${problem}`] : []),
        ];
      })
    ).flat();
    if (refusals.length > 0)
      throw new RefusedError(
        this.storage.locate(`${TRASH_DIR}/`),
        `nothing restored, because ${refusals.length === 1 ? 'one entry' : `${refusals.length} entries`} cannot go back: ${refusals.join('; ')}`,
      );
    const restored: TrashEntry[] = [];
    try {
      await mapLimited(chosen, ENTRIES_IN_FLIGHT, async (found) => {
        await this.modeOf(found.journal)?.restore(found.journal, found.entry);
        restored.push(found.trashEntry);
      });
    } catch (error) {
      if (restored.length > 0 && error instanceof RefusedError)
        throw new RefusedError(error.target, `${error.problem} (restored meanwhile: ${restored.map((e) => e.checkpointId).join(', ')})`);
      throw error;
    }
    await putBackRewrites(
      this.storage,
      chosen.map((f) => f.entry),
    );
    restored.sort((a, b) => chosen.findIndex((f) => f.trashEntry === a) - chosen.findIndex((f) => f.trashEntry === b));
    await this.dropEmptied(scan, new Set(chosen));
    return restored;
  }

  /** Undo: restores the most recent batch (or the named one), all of it or nothing. */
  async undo(batch?: string): Promise<TrashEntry[]> {
    const scan = await this.scan();
    const chosen = batch ?? scan.found[0]?.journal.batch;
    if (chosen === undefined) return [];
    const inBatch = scan.found.filter((f) => f.journal.batch === chosen);
    if (inBatch.length === 0) throw new NotFoundError(showName(chosen), 'no such batch in the trash');
    return this.restore(inBatch.map((f) => f.entry.id));
  }

  /** The only place that really deletes: `batches` limits a purge to those batches, `olderThanMs` to entries deleted that long ago. */
  async purge(options: { olderThanMs?: number; batches?: readonly string[] }): Promise<PurgeResult> {
    const now = this.now();
    const scan = await this.scan();
    const batches = options.batches ? new Set(options.batches) : null;
    if (batches) {
      const known = new Set(scan.found.map((f) => f.journal.batch));
      const missing = [...batches].filter((b) => !known.has(b));
      if (missing.length > 0)
        throw new NotFoundError(missing.map(showName).join(', '), 'no such batch in the trash (see: checkpoint-studio trash ls); nothing was purged');
    }
    const old = (f: Found): boolean => options.olderThanMs === undefined || now - Date.parse(f.journal.deletedAt) >= options.olderThanMs;
    const chosen = scan.found.filter((f) => old(f) && (batches === null || batches.has(f.journal.batch)));
    await mapLimited(chosen, ENTRIES_IN_FLIGHT, (found) => this.modeOf(found.journal)?.purge(found.journal, found.entry) ?? Promise.resolve());
    await this.dropEmptied(scan, new Set(chosen));
    const purged = chosen.map((f) => f.trashEntry);
    return { purged, bytes: purged.reduce((sum, e) => sum + e.bytes, 0), problems: scan.problems };
  }

  /** A finished batch none of whose entries is left in the trash loses its journal (and copies a crash left). */
  private async dropEmptied(scan: Scan, gone: ReadonlySet<Found>): Promise<void> {
    for (const journal of scan.journals) {
      if (journal.state !== 'done') continue;
      if (scan.found.some((f) => f.journal === journal && !gone.has(f))) continue;
      await this.modeOf(journal)?.dropJournal(journal);
    }
  }
}
