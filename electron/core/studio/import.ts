// importFolders and cancelImport: each source imported in turn through the importer registry,
// its progress sent as events under the client's own import id, so a client (over IPC or a
// WebSocket) can show progress and cancel before the call returns.
import { randomUUID } from 'node:crypto';
import { type ImportMode, type ImportReport, type ImportSourceResult, type StudioEventName, type StudioEventPayload, StudioError } from '../../contract.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import { ImportCancelledError, type ImportDestination, importFolder } from '../import/import-folder.js';
import { errorData } from './errors.js';

type Emit = <E extends StudioEventName>(event: E, payload: StudioEventPayload<E>) => void;

/** Progress events at most this often per source (a fast copy would otherwise flood a WebSocket). */
const PROGRESS_INTERVAL_MS = 100;

export class Imports {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly emit: Emit) {}

  async run(
    store: CheckpointStore,
    params: { sources: readonly string[]; into?: string | undefined; mode?: ImportMode | undefined; importId?: string | undefined },
    destination?: ImportDestination,
  ): Promise<ImportReport> {
    const importId = params.importId ?? randomUUID();
    if (this.running.has(importId)) throw new StudioError('busy', `an import with the id ${importId} is already running`);
    const controller = new AbortController();
    this.running.set(importId, controller);
    const results: ImportSourceResult[] = [];
    try {
      for (const source of params.sources) {
        if (controller.signal.aborted) {
          results.push({
            ok: false,
            source,
            format: null,
            error: { code: 'refused', message: `${source}: import cancelled before it started; nothing of it was kept` },
          });
          continue;
        }
        results.push(await this.one(store, importId, source, { into: params.into, mode: params.mode, destination }, controller.signal));
      }
    } finally {
      this.running.delete(importId);
    }
    return { importId, results, cancelled: controller.signal.aborted };
  }

  /** Cancels every running import (the Studio is closing). */
  cancelAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  cancel(importId: string): boolean {
    const controller = this.running.get(importId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  private async one(
    store: CheckpointStore,
    importId: string,
    source: string,
    { into, mode, destination }: { into: string | undefined; mode: ImportMode | undefined; destination: ImportDestination | undefined },
    signal: AbortSignal,
  ): Promise<ImportSourceResult> {
    let format: string | null = null;
    let last = 0;
    try {
      const imported = await importFolder(store, source, {
        ...(into !== undefined ? { into } : {}),
        ...(mode !== undefined ? { mode } : {}),
        ...(destination !== undefined ? { destination } : {}),
        signal,
        onDetected: (importer) => {
          format = importer.format;
        },
        onProgress: (progress) => {
          const now = Date.now();
          const edge = progress.phase === 'done' || progress.bytesDone === 0 || progress.bytesDone === progress.bytesTotal;
          if (!edge && now - last < PROGRESS_INTERVAL_MS) return;
          last = now;
          this.emit('import:progress', { importId, source, ...progress });
        },
      });
      return {
        ok: true,
        source,
        format: imported.format,
        run: imported.run,
        newRun: imported.newRun,
        checkpoints: [...imported.checkpoints],
        notes: [...imported.notes],
      };
    } catch (error) {
      const data = error instanceof ImportCancelledError ? { code: error.code, message: error.message } : errorData(error);
      return { ok: false, source, format, error: data };
    }
  }
}
