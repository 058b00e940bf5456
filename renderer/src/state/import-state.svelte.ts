// One import at a time, as the page shows it: folders in (dropped or chosen), uploaded first in
// browser mode, then the one importFolders call under our own import id, whose progress events
// we follow and which Cancel stops. The report stays on screen until it is closed.
import { createContext } from 'svelte';
import type { ImportPhase, ImportReport, StudioApi } from '../lib/contract';
import { errorMessage } from '../lib/errors';
import { type PickedFolder, type PickedLoose, discardUpload, realFolderPath, uploadFolders } from '../lib/folder-upload';

export type ImportStage = 'idle' | 'reading' | 'uploading' | ImportPhase | 'finished';

/** How folders reach the Studio: their real paths (the desktop app), or uploaded (browser mode). */
export type FolderSource = { readonly kind: 'path'; readonly pathFor: (file: File) => string } | { readonly kind: 'upload' };

export interface ImportProgressView {
  readonly label: string;
  readonly done: number;
  readonly total: number;
}

/** Browser mode: the folders as the person dropped them, not where the server staged them. */
function namedAsDropped(report: ImportReport, staged: readonly string[], folders: readonly PickedFolder[]): ImportReport {
  const results = report.results.map((result, i) => {
    const name = folders[i]?.name;
    const where = staged[i];
    if (name === undefined || where === undefined) return result;
    const shown = (text: string): string => text.split(where).join(name);
    return result.ok
      ? { ...result, source: name, notes: result.notes.map(shown) }
      : { ...result, source: name, error: { ...result.error, message: shown(result.error.message) } };
  });
  return { ...report, results };
}

export class ImportState {
  stage = $state<ImportStage>('idle');
  progress = $state<ImportProgressView | null>(null);
  report = $state.raw<ImportReport | null>(null);
  /** Refused before anything reached the Studio (an item that is not a folder, a failed upload). */
  problems = $state.raw<string[]>([]);
  cancelled = $state(false);
  /** The folder picker the "Import…" button opens. */
  chooser: HTMLInputElement | null = null;
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
      this.progress = { label: progress.source.split(/[\\/]/).pop() ?? progress.source, done: progress.bytesDone, total: progress.bytesTotal };
    });
  }

  get busy(): boolean {
    return this.stage !== 'idle' && this.stage !== 'finished';
  }

  choose(): void {
    this.chooser?.click();
  }

  /** Marks the start of a drop whose folders are still being listed. */
  reading(): void {
    this.reset();
    this.stage = 'reading';
  }

  async importFolders(folders: readonly PickedFolder[], loose: readonly PickedLoose[] = []): Promise<void> {
    if (this.stage !== 'reading') this.reset();
    this.problems = loose.map((item) => `${item.name}: not a folder; drop or choose a checkpoint folder or a run folder`);
    if (folders.length === 0) {
      if (this.problems.length === 0) this.problems = ['nothing to import: no folder was given'];
      this.stage = 'finished';
      return;
    }
    const importId = crypto.randomUUID();
    const abort = new AbortController();
    this.importId = importId;
    this.abort = abort;
    const uploadId = this.source.kind === 'upload' ? crypto.randomUUID() : null;
    try {
      let sources: string[];
      if (this.source.kind === 'path') {
        const pathFor = this.source.pathFor;
        sources = [];
        for (const folder of folders) {
          const real = realFolderPath(folder, pathFor);
          if (real) sources.push(real);
          else this.problems = [...this.problems, `${folder.name}: the app could not tell where this folder is`];
        }
      } else {
        this.stage = 'uploading';
        sources = await uploadFolders(uploadId as string, folders, (done, total, label) => (this.progress = { label, done, total }), abort.signal);
      }
      if (abort.signal.aborted) {
        this.cancelled = true;
        return;
      }
      if (sources.length === 0) return;
      this.stage = 'reading';
      this.progress = null;
      const report = await this.api.importFolders({ sources, importId });
      this.report = uploadId ? namedAsDropped(report, sources, folders) : report;
      this.cancelled = report.cancelled;
    } catch (error) {
      if (abort.signal.aborted) this.cancelled = true;
      else this.problems = [...this.problems, errorMessage(error)];
    } finally {
      if (uploadId) await discardUpload(uploadId);
      this.importId = null;
      this.abort = null;
      this.stage = 'finished';
    }
  }

  cancel(): void {
    this.abort?.abort();
    if (this.importId) void this.api.cancelImport({ importId: this.importId });
  }

  close(): void {
    if (this.busy) return;
    this.reset();
  }

  private reset(): void {
    this.stage = 'idle';
    this.progress = null;
    this.report = null;
    this.problems = [];
    this.cancelled = false;
  }

  dispose(): void {
    this.offProgress();
  }
}

export const [getImports, setImports] = createContext<ImportState>();
