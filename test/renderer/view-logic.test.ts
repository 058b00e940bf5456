// The small rules the views rely on: which rows a virtual list renders, the list's rows and
// labels and lanes, when a training counts as stalled, and how values read.
import { describe, expect, it } from 'vitest';
import { buildRows, checkpointLabel } from '../../renderer/src/lib/checkpoint-rows';
import { backoffDelay } from '../../renderer/src/lib/backoff';
import { formatBytes, formatDuration, formatMetric } from '../../renderer/src/lib/format';
import { buildLanes, defaultMode } from '../../renderer/src/lib/lanes';
import { median, recordInterval, stallThreshold } from '../../renderer/src/lib/stall';
import { scrollToReveal, virtualWindow } from '../../renderer/src/lib/virtual-window';
import type { CheckpointInfo } from '../../renderer/src/lib/contract';
import { checkpoint, run } from './fakes';

describe('the virtual window', () => {
  it('renders the rows in view and a few beyond, for any length', () => {
    expect(virtualWindow(10_000, 36, 0, 720)).toEqual({ start: 0, end: 29, offset: 0, total: 360_000 });
    const deep = virtualWindow(10_000, 36, 36 * 5000, 720);
    expect(deep.start).toBe(4992);
    expect(deep.end - deep.start).toBeLessThan(40);
    expect(virtualWindow(3, 36, 0, 720)).toEqual({ start: 0, end: 3, offset: 0, total: 108 });
  });

  it('scrolls only as far as needed to reveal a row', () => {
    expect(scrollToReveal(10, 36, 0, 720)).toBeNull();
    expect(scrollToReveal(30, 36, 0, 720)).toBe(31 * 36 - 720);
    expect(scrollToReveal(2, 36, 360, 720)).toBe(72);
  });
});

describe('lanes and rows', () => {
  const runs = [
    run('b', { createdAt: '2026-01-03T00:00:00.000Z', parent: { run: 'a', step: 2 } }),
    run('a', { createdAt: '2026-01-01T00:00:00.000Z', writer: { pid: 7, host: 'h', since: 's' } }),
  ];
  const checkpoints = [checkpoint('b', 5), checkpoint('a', 2, { pinned: true }), checkpoint('a', 1)];

  it('orders runs by creation and checkpoints by step, and flattens them with an order for ranges', () => {
    const lanes = buildLanes(runs, checkpoints);
    expect(lanes.map((l) => l.run)).toEqual(['a', 'b']);
    const built = buildRows(lanes);
    expect(built.slice(0, built.length).map((r) => r.key)).toEqual(['lane:a', 'a/ckpt-000000001', 'a/ckpt-000000002', 'lane:b', 'b/ckpt-000000005']);
    expect(built.slice(3, 99).map((r) => (r.kind === 'checkpoint' ? r.position : -1))).toEqual([-1, 2]);
    expect([built.length, built.count]).toEqual([5, 3]);
    expect(built.order).toEqual(['a/ckpt-000000001', 'a/ckpt-000000002', 'b/ckpt-000000005']);
    expect(built.rowOf(checkpoints[0] as CheckpointInfo)).toBe(4);
    expect(built.rowOf(checkpoint('c', 1))).toBeUndefined();
  });

  it('labels a row with what a sighted user reads across it', () => {
    const c = checkpoint('a', 3, {
      status: 'damaged',
      statusReason: 'model.safetensors: checksum mismatch',
      sameStepAs: ['a/ckpt-3'],
      metrics: { loss: 0.5, val_loss: null },
      pinned: true,
      protectedBy: [
        { kind: 'pinned', reason: 'pinned' },
        { kind: 'parent', reason: 'parent of run "b"' },
      ],
    });
    expect(checkpointLabel(c, ['latest'], ['loss', 'val_loss', 'accuracy'])).toBe(
      'a step 3, epoch 0, damaged: model.safetensors: checksum mismatch, 1.0 KB, loss 0.5, val_loss NaN, latest, pinned, same step as a/ckpt-3, protected: parent of run "b"',
    );
  });

  it('guesses which way a metric improves', () => {
    expect(defaultMode('val_accuracy')).toBe('max');
    expect(defaultMode('val_loss')).toBe('min');
  });
});

describe('small rules', () => {
  it('judges a stall by the usual interval, with a floor', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNull();
    expect(stallThreshold([])).toBe(5000);
    expect(stallThreshold([2000, 2000, 2200])).toBe(10_000);
    expect(
      recordInterval(
        Array.from({ length: 20 }, (_, i) => i),
        99,
      ),
    ).toHaveLength(20);
  });

  it('backs off from a quarter second to five seconds, spread by a fifth', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((a) => backoffDelay(a, () => 0.5))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(backoffDelay(0, () => 0)).toBe(200);
    expect(backoffDelay(0, () => 1)).toBe(300);
  });

  it('formats sizes, durations and metrics as the CLI does', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(8_300_000)).toBe('8.3 MB');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(125_000)).toBe('2m 05s');
    expect(formatDuration(3_720_000)).toBe('1h 02m');
    expect(formatMetric(0.123456)).toBe('0.1235');
    expect(formatMetric(null)).toBe('NaN');
  });
});
