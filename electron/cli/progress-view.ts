// How a training session looks in a terminal: one live progress line on a TTY, plain lines
// (at most every few seconds) when the output is a file or a pipe, e.g. on a training server.
import type { SessionEvent } from '../contract.js';
import { formatBytes } from './format.js';

function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const fixed = (value: number | null, digits = 4): string => (value === null ? 'NaN' : value.toFixed(digits));

export class ProgressView {
  private lastPlainAt = 0;
  private liveLine = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly plainIntervalMs = 5000,
  ) {}

  show(event: SessionEvent): void {
    switch (event.type) {
      case 'started':
        this.line(
          `run ${event.run}: ${event.parameters.toLocaleString('en-US')} parameters, ${event.batchesPerEpoch} batches per epoch, ${event.totalSteps} steps` +
            (event.resumedFrom ? `, continuing from ${event.resumedFrom.run} step ${event.resumedFrom.step}` : ''),
        );
        this.line(`backend: ${event.backend}${event.backendReason ? ` (${event.backendReason})` : ' (native TensorFlow)'}`);
        return;
      case 'progress': {
        const fraction = event.totalSteps > 0 ? event.step / event.totalSteps : 0;
        const text = `epoch ${event.epoch + 1} step ${event.step}/${event.totalSteps} loss ${fixed(event.loss)} acc ${fixed(event.accuracy, 3)} ${Math.round(event.samplesPerSecond)} samples/s ETA ${duration(event.etaMs)}`;
        if (this.tty) {
          const width = 24;
          const filled = Math.round(fraction * width);
          this.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${text}`);
          this.liveLine = true;
        } else if (Date.now() - this.lastPlainAt >= this.plainIntervalMs) {
          this.lastPlainAt = Date.now();
          this.line(text);
        }
        return;
      }
      case 'validation':
        this.line(`epoch ${event.epoch + 1} done at step ${event.step}: val_loss ${fixed(event.loss)} val_accuracy ${fixed(event.accuracy)}`);
        return;
      case 'checkpoint':
        this.line(
          `saved ${event.id} (${event.reason}): ${formatBytes(event.bytes)}, training blocked ${event.blockedMs.toFixed(1)} ms, written in ${event.writeMs.toFixed(0)} ms in the background`,
        );
        return;
      case 'paused':
        this.line(`paused at step ${event.step}`);
        return;
      case 'resumed':
        this.line(`resumed at step ${event.step}`);
        return;
      case 'warning':
        this.line(`warning: ${event.message}`);
        return;
      case 'finished':
        this.line(
          `finished (${event.reason}) at step ${event.step}; last checkpoint ${event.lastCheckpoint ?? 'none'}; checkpoint overhead ${(event.overheadShare * 100).toFixed(2)}% of training time`,
        );
        return;
    }
  }

  line(text: string): void {
    if (this.liveLine) this.write('\r\x1b[2K');
    this.liveLine = false;
    this.write(`${text}\n`);
  }
}
