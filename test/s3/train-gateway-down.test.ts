// The gateway stopped in the middle of a training that saves into it (a gateway of this file's
// own: the shared one must stay up for the others): the save fails with a clear warning and
// training goes on; nothing half-listed; the older checkpoints still verify; once the gateway is
// back, a later checkpoint lands and the metrics logged meanwhile reach the bucket.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../electron/contract.js';
import { listStoredWorkspace } from '../../electron/core/checkpoint/stored-listing.js';
import { readStoredMetrics } from '../../electron/core/checkpoint/stored-run-writer.js';
import { verifyStoredCheckpoint } from '../../electron/core/checkpoint/stored-checkpoint.js';
import { openS3Storage } from '../../electron/core/storage/open-s3.js';
import { newControl } from '../../electron/core/training/session/training-session.js';
import { type Gateway, startCephGateway } from './ceph-gateway.js';
import { s3Available } from './s3-available.js';
import { trainInto, useEndpointCredentials } from './train-helpers.js';

const ADDRESS = 's3://down/ws';

describe.skipIf(!s3Available())('training into S3 while the gateway stops and comes back', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startCephGateway();
    useEndpointCredentials(gateway);
    const storage = openS3Storage(ADDRESS, { endpoint: gateway.endpoint });
    await storage.client.send(new CreateBucketCommand({ Bucket: 'down' }));
    storage.client.destroy();
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
  });

  it('warns, trains on, lists nothing half-written, and lands a later checkpoint after the restart', async () => {
    const control = newControl();
    let phase: 'before' | 'down' | 'restarting' | 'up' = 'before';
    let stepAtStop = 0;
    let stepAtRestart = 0;
    let lastStep = 0;
    let warned = false;
    const faults: Promise<void>[] = [];
    const onEvent = (event: SessionEvent): void => {
      if (event.type === 'metric' && event.kind === 'train') lastStep = event.step;
      if (phase === 'before' && event.type === 'checkpoint' && event.step >= 4) {
        phase = 'down';
        stepAtStop = lastStep;
        faults.push(gateway.stopGateway());
      }
      if (phase === 'down' && event.type === 'warning' && event.message.startsWith('saving step')) warned = true;
      // Training went on past the failed save; then the gateway comes back.
      if (phase === 'down' && warned && lastStep > stepAtStop + 4) {
        phase = 'restarting';
        faults.push(
          gateway.startGateway().then(() => {
            stepAtRestart = lastStep;
            phase = 'up';
          }),
        );
      }
      if (phase === 'up' && event.type === 'checkpoint' && event.step > stepAtRestart) control.stopRequested = true;
    };
    const { result, events } = await trainInto(ADDRESS, gateway, {
      run: 'outage',
      // Long enough to outlast the outage: the test stops it once a checkpoint landed after the restart.
      config: { epochs: 1000 },
      checkpoints: { everySteps: 2, onStop: true },
      control,
      onEvent,
    });
    await Promise.all(faults);

    expect(phase).toBe('up');
    expect(result.reason).toBe('stopped');
    const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
    // One sentence naming the address and the cause.
    expect(
      warnings.some((w) =>
        /^saving step \d+ failed: s3:\/\/down\/ws\/outage\/.*cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/.test(w),
      ),
    ).toBe(true);
    // One warning for the outage, not one per save, and one when saving works again.
    expect(warnings.filter((w) => w.startsWith('saving step'))).toHaveLength(1);
    expect(warnings.some((w) => /^saving works again: step \d+ saved to s3:\/\/down\/ws\/outage; not saved meanwhile: steps? [\d, ]+$/.test(w))).toBe(true);
    // Training went on while the store was down.
    expect(stepAtRestart).toBeGreaterThan(stepAtStop + 4);

    useEndpointCredentials(gateway);
    const storage = openS3Storage(ADDRESS, { endpoint: gateway.endpoint });
    try {
      const run = (await listStoredWorkspace(storage)).runs.find((r) => r.name === 'outage');
      const steps = run?.checkpoints.map((c) => c.step) ?? [];
      expect(steps.filter((s) => s <= stepAtStop).length).toBeGreaterThan(0);
      expect(steps.some((s) => s > stepAtRestart)).toBe(true);
      // Every listed checkpoint is whole and verifies, the older ones included.
      for (const checkpoint of run?.checkpoints ?? []) {
        expect(checkpoint.status).toBe('complete');
        expect((await verifyStoredCheckpoint(storage, checkpoint.folder)).problems).toEqual([]);
      }
      // The metrics logged while the store was down were kept and went up after: no step missing.
      const trainSteps = (await readStoredMetrics(storage, 'outage')).filter((m) => m['kind'] === 'train').map((m) => m['step']);
      expect(trainSteps).toEqual(Array.from({ length: result.step }, (_, i) => i + 1));
    } finally {
      storage.client.destroy();
    }
  }, 300_000);

  it('ends a stop while the store is down with a warning naming the steps not saved; the older checkpoints stay whole', async () => {
    const control = newControl();
    let stoppedAt = 0;
    const faults: Promise<void>[] = [];
    const { result, events } = await trainInto(ADDRESS, gateway, {
      run: 'halted',
      config: { epochs: 1000 },
      checkpoints: { everySteps: 2, onStop: true },
      control,
      finalRetryMs: 1000,
      onEvent: (event) => {
        if (stoppedAt === 0 && event.type === 'checkpoint' && event.step >= 4) {
          stoppedAt = event.step;
          faults.push(gateway.stopGateway());
        }
        if (stoppedAt > 0 && event.type === 'warning' && event.message.startsWith('saving step')) control.stopRequested = true;
      },
    });
    await Promise.all(faults);
    expect(result.reason).toBe('stopped');
    const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
    const unsaved = warnings.find((w) => w.includes('not saved'));
    expect(unsaved).toMatch(
      new RegExp(
        `^steps? [\\d, ]*\\b${result.step}\\b (was|were) not saved to s3://down/ws/halted: .*cannot reach the S3 endpoint .*; the last checkpoint saved is step ${stoppedAt}$`,
      ),
    );
    expect(warnings.some((w) => /metrics records of s3:\/\/down\/ws\/halted were not written/.test(w))).toBe(true);

    await gateway.startGateway();
    const storage = openS3Storage(ADDRESS, { endpoint: gateway.endpoint });
    try {
      const run = (await listStoredWorkspace(storage)).runs.find((r) => r.name === 'halted');
      expect(run?.checkpoints.map((c) => c.step)).toEqual(Array.from({ length: stoppedAt / 2 }, (_, i) => 2 * (i + 1)));
      for (const checkpoint of run?.checkpoints ?? []) expect((await verifyStoredCheckpoint(storage, checkpoint.folder)).problems).toEqual([]);
    } finally {
      storage.client.destroy();
    }
  }, 90_000);
});
