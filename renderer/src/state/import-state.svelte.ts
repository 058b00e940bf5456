// One import at a time, as the page shows it: folders and files in (dropped, chosen, or a typed
// path), uploaded first in browser mode; then what describeSources found in them, shown before
// anything is imported; then the one importFolders call (copy, or link in place when the sources
// are real paths) under our own import id, whose progress events we follow and which Cancel
// stops. The report stays on screen until it is closed. An upload is discarded once the import
// is over or the found step is cancelled.
import { createContext } from 'svelte';
import type { ImportMode, ImportPhase, ImportReport, SourceDescription, StudioApi } from '../lib/contract';
import { errorMessage } from '../lib/errors';
import { type PickedFolder, type PickedLoose, discardUpload, joinServerPath, looseAsFolder, realFolderPath, uploadFolders } from '../lib/folder-upload';
import { typedPathProblem } from '../lib/typed-path';

export type ImportStage = 'idle' | 'start' | 'reading' | 'uploading' | 'describing' | 'found' | ImportPhase | 'finished';

/** How items reach the Studio: their real paths (the desktop app), or uploaded (browser mode). */
export type FolderSource = { readonly kind: 'path'; readonly pathFor: (file: File) => string } | { readonly kind: 'upload' };

/** Which picker the dialog's buttons open. */
export type Chooser = 'folder' | 'files';

export interface ImportProgressView {
  readonly label: string;
  readonly done: number;
  readonly total: number;
}

/** A server path as the person should read it: staged upload paths replaced by what they dropped. */
type Renames = readonly (readonly [from: string, to: string])[];

/** The sources ready to describe and import. */
interface Prepared {
  readonly sources: readonly string[];
  /** Real paths on the Studio's machine, so a link in place means something (not an upload). */
  readonly linkable: boolean;
  readonly uploadId: string | null;
  readonly renames: Renames;
}

function renamed(text: string, renames: Renames): string {
  return renames.reduce((shown, [from, to]) => shown.split(from).join(to), text);
}

function describedAsDropped(found: readonly SourceDescription[], renames: Renames): SourceDescription[] {
  return found.map((d) =>
    d.ok
      ? { ...d, source: renamed(d.source, renames), notes: d.notes.map((n) => renamed(n, renames)) }
      : { ...d, source: renamed(d.source, renames), error: { ...d.error, message: renamed(d.error.message, renames) } },
  );
}

function reportedAsDropped(report: ImportReport, renames: Renames): ImportReport {
  const results = report.results.map((r) =>
    r.ok
      ? { ...r, source: renamed(r.source, renames), notes: r.notes.map((n) => renamed(n, renames)) }
      : { ...r, source: renamed(r.source, renames), error: { ...r.error, message: renamed(r.error.message, renames) } },
  );
  return { ...report, results };
}

export class ImportState {
  stage = $state<ImportStage>('idle');
  progress = $state<ImportProgressView | null>(null);
  /** What each source holds, shown before importing (the found step), sources as the person knows them. */
  found = $state.raw<SourceDescription[]>([]);
  /** Whether the found sources may be linked in place (real paths, not an upload). */
  linkable = $state(false);
  report = $state.raw<ImportReport | null>(null);
  /** Refused before anything reached the Studio (an unreadable item, a failed upload). */
  problems = $state.raw<string[]>([]);
  /** The typed path's problem, shown under the path field. */
  pathError = $state<string | null>(null);
  cancelled = $state(false);
  /** The pickers the dialog's "Choose…" buttons open. */
  readonly choosers: Record<Chooser, HTMLInputElement | null> = { folder: null, files: null };
  private prepared: Prepared | null = null;
  /** Described sources as the Studio named them, in the order of `found`. */
  private described: SourceDescription[] = [];
  private importId: string | null = null;
  private abort: AbortController | null = null;
  private readonly offProgress: () => void;

  constructor(
    private readonly api: StudioApi,
    private readonly source: FolderSource,
  ) {
    this.offProgress = api.on('import:progress', (progress) => {
      if (progress.importId !== this.importId || this.stage === 'finished') return;
      this.stage = progress.phase;
      const label = renamed(progress.source, this.prepared?.renames ?? []);
      this.progress = { label: label.split(/[\\/]/).pop() ?? label, done: progress.bytesDone, total: progress.bytesTotal };
    });
  }

  /** Something is under way that Cancel stops (not a step waiting for the person). */
  get busy(): boolean {
    return this.stage !== 'idle' && this.stage !== 'start' && this.stage !== 'found' && this.stage !== 'finished';
  }

  /** Whether the found step has anything to import. */
  get importable(): boolean {
    return this.found.some((d) => d.ok);
  }

  /** The first step: choose a folder or files, or type a path. */
  open(): void {
    if (this.busy) return;
    void this.discard();
    this.reset();
    this.stage = 'start';
  }

  /** From the found step back to the first, to choose or type again (an upload is discarded). */
  back(): void {
    if (this.stage !== 'found') return;
    this.open();
  }

  choose(which: Chooser): void {
    this.choosers[which]?.click();
  }

  /** Marks the start of a drop whose folders are still being listed. */
  reading(): void {
    void this.discard();
    this.reset();
    this.stage = 'reading';
  }

  /** A typed path: the Studio reads it where it is, so it can also be linked. */
  async fromPath(typed: string): Promise<void> {
    const problem = typedPathProblem(typed);
    this.pathError = problem;
    if (problem) return;
    this.problems = [];
    await this.describe({ sources: [typed.trim()], linkable: true, uploadId: null, renames: [] });
  }

  /** Dropped or chosen folders and files: their real paths, or uploaded; then what they hold. */
  async take(folders: readonly PickedFolder[], loose: readonly PickedLoose[] = []): Promise<void> {
    if (this.stage !== 'reading') {
      void this.discard();
      this.reset();
    }
    this.problems = loose.filter((l) => l.file === null).map((l) => `${l.name}: the browser would not read this item; choose it with Import… instead`);
    const files = loose.filter((l) => l.file !== null);
    if (folders.length === 0 && files.length === 0) {
      if (this.problems.length === 0) this.problems = ['nothing to import: no folder or file was given'];
      this.stage = 'finished';
      return;
    }
    const prepared = this.source.kind === 'path' ? this.realPaths(this.source.pathFor, folders, files) : await this.upload(folders, files);
    if (!prepared) return;
    if (prepared.sources.length === 0) {
      this.stage = 'finished';
      return;
    }
    await this.describe(prepared);
  }

  private realPaths(pathFor: (file: File) => string, folders: readonly PickedFolder[], files: readonly PickedLoose[]): Prepared {
    const sources: string[] = [];
    for (const folder of folders) {
      const real = realFolderPath(folder, pathFor);
      if (real) sources.push(real);
      else this.problems = [...this.problems, `${folder.name}: the app could not tell where this folder is`];
    }
    for (const { name, file } of files) {
      const real = file ? pathFor(file) : '';
      if (real) sources.push(real);
      else this.problems = [...this.problems, `${name}: the app could not tell where this file is`];
    }
    return { sources, linkable: true, uploadId: null, renames: [] };
  }

  /** Uploads the folders, and the loose files together into one more folder; null when stopped or refused. */
  private async upload(folders: readonly PickedFolder[], files: readonly PickedLoose[]): Promise<Prepared | null> {
    const uploadId = crypto.randomUUID();
    const abort = new AbortController();
    this.abort = abort;
    this.stage = 'uploading';
    const looseFolder =
      files.length > 0
        ? looseAsFolder(
            files,
            folders.map((f) => f.name),
          )
        : null;
    // A run imported from a SavedModel's variables/ is named for the folder holding it: staged
    // alone, that would be the upload id; one level down it is the folder's own name.
    const nested = (folder: PickedFolder): boolean => folder.name === 'variables';
    const up = folders.map((f) => (nested(f) ? { ...f, files: f.files.map((x) => ({ ...x, path: `${f.name}/${x.path}` })) } : f));
    const all = looseFolder ? [...up, looseFolder] : up;
    try {
      const staged = await uploadFolders(uploadId, all, (done, total, label) => (this.progress = { label, done, total }), abort.signal);
      if (abort.signal.aborted) throw new Error('cancelled');
      const sources: string[] = [];
      const renames: [string, string][] = [];
      folders.forEach((folder, i) => {
        const where = staged[i] ?? '';
        const source = nested(folder) ? joinServerPath(where, folder.name) : where;
        sources.push(source);
        renames.push([source, folder.name], [where, folder.name]);
      });
      const looseWhere = staged[folders.length];
      if (looseFolder && looseWhere !== undefined) {
        const only = files.length === 1 ? files[0] : undefined;
        if (only) {
          const file = joinServerPath(looseWhere, only.name);
          sources.push(file);
          renames.push([file, only.name]);
        } else sources.push(looseWhere);
        // A file inside is named by its own name; the folder itself by what it holds.
        renames.push([joinServerPath(looseWhere, ''), ''], [looseWhere, `the dropped files (${files.map((f) => f.name).join(', ')})`]);
      }
      return { sources, linkable: false, uploadId, renames };
    } catch (error) {
      await discardUpload(uploadId);
      if (abort.signal.aborted) this.cancelled = true;
      else this.problems = [...this.problems, errorMessage(error)];
      this.stage = 'finished';
      return null;
    } finally {
      this.abort = null;
      this.progress = null;
    }
  }

  private async describe(prepared: Prepared): Promise<void> {
    this.prepared = prepared;
    this.linkable = prepared.linkable;
    this.stage = 'describing';
    this.progress = null;
    try {
      const described = await this.api.describeSources({ sources: [...prepared.sources] });
      if (this.prepared !== prepared) return;
      this.described = described;
      this.found = describedAsDropped(described, prepared.renames);
      this.stage = 'found';
    } catch (error) {
      if (this.prepared !== prepared) return;
      this.problems = [...this.problems, errorMessage(error)];
      await this.discard();
      this.stage = 'finished';
    }
  }

  /** Imports the found sources that can be read: copied, or linked in place when they are real paths. */
  async confirm(mode: ImportMode): Promise<void> {
    const prepared = this.prepared;
    if (this.stage !== 'found' || !prepared) return;
    if (mode === 'link' && !prepared.linkable) throw new Error('an upload cannot be linked in place: it is deleted after the import');
    // The Studio's own paths for the sources it could read (describeSources answers in order).
    const sources = prepared.sources.filter((_, i) => this.described[i]?.ok === true);
    if (sources.length === 0) return;
    const importId = crypto.randomUUID();
    this.importId = importId;
    this.stage = 'reading';
    try {
      const report = await this.api.importFolders({ sources, importId, ...(mode === 'link' ? { mode } : {}) });
      this.report = reportedAsDropped(report, prepared.renames);
      this.cancelled = report.cancelled;
    } catch (error) {
      this.problems = [...this.problems, errorMessage(error)];
    } finally {
      await this.discard();
      this.importId = null;
      this.stage = 'finished';
    }
  }

  cancel(): void {
    // Nothing running that can be stopped (a step waiting for the person, a describe): just go.
    if (!this.abort && !this.importId) {
      void this.discard();
      this.reset();
      return;
    }
    this.abort?.abort();
    if (this.importId) void this.api.cancelImport({ importId: this.importId });
  }

  close(): void {
    if (this.busy) return;
    void this.discard();
    this.reset();
  }

  /** Tells the server an upload's staged files can go (after the import, or a cancel). */
  private async discard(): Promise<void> {
    const uploadId = this.prepared?.uploadId;
    this.prepared = null;
    if (uploadId) await discardUpload(uploadId);
  }

  private reset(): void {
    this.stage = 'idle';
    this.progress = null;
    this.report = null;
    this.found = [];
    this.described = [];
    this.linkable = false;
    this.problems = [];
    this.pathError = null;
    this.cancelled = false;
  }

  dispose(): void {
    this.offProgress();
    void this.discard();
  }
}

export const [getImports, setImports] = createContext<ImportState>();
