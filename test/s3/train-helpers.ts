// Training into an S3 workspace from a test, as the trainer process does it (trainer-main.ts):
// the session is given the storage opened from the address, and the checkpoint worker opens its
// own from the same address and connection, with credentials from the process's environment.
import type { SessionEvent } from '../../electron/contract.js';
import { OptimizerSpecSchema } from '../../electron/contract.js';
import { openS3Storage } from '../../electron/core/storage/open-s3.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import type { BackendName } from '../../electron/core/training/engine/backend.js';
import type { TrainingConfig } from '../../electron/core/training/engine/training-loop.js';
import { TrainRequestSchema } from '../../electron/core/training/process/train-request.js';
import { type SessionControl, type SessionResult, newControl, runTrainingSession } from '../../electron/core/training/session/training-session.js';

export const SMALL_CONFIG: TrainingConfig = {
  model: { kind: 'mlp', width: 16, depth: 2, filters: 4 },
  optimizer: OptimizerSpecSchema.parse({ name: 'adam', learningRate: 0.01 }),
  batchSize: 32,
  epochs: 2,
  seed: 11,
  validationCount: 100,
  dataDir: null,
  // 300 examples: 10 batches per epoch.
  trainLimit: 300,
};

export interface Endpoint {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The trainer takes credentials from its environment (the AWS chain); so does its worker thread. */
export function useEndpointCredentials(gateway: Endpoint): void {
  process.env['AWS_ACCESS_KEY_ID'] = gateway.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = gateway.secretAccessKey;
}

export interface TrainOptions {
  readonly run: string;
  readonly maxSteps?: number;
  readonly resume?: { readonly run: string; readonly step: number };
  readonly config?: Partial<TrainingConfig>;
  readonly checkpoints?: Record<string, unknown>;
  readonly retention?: Record<string, unknown>;
  readonly backend?: BackendName;
  readonly control?: SessionControl;
  readonly onEvent?: (event: SessionEvent) => void;
  readonly finalRetryMs?: number;
}

export async function trainInto(address: string, gateway: Endpoint, options: TrainOptions): Promise<{ result: SessionResult; events: SessionEvent[] }> {
  useEndpointCredentials(gateway);
  const connection = { endpoint: gateway.endpoint };
  const storage: S3Storage = openS3Storage(address, connection);
  const events: SessionEvent[] = [];
  const resume = options.resume ? { id: `${options.resume.run}/ckpt-${String(options.resume.step).padStart(9, '0')}`, ...options.resume } : null;
  const request = TrainRequestSchema.parse({
    workspace: address,
    s3: connection,
    run: options.run,
    config: { ...SMALL_CONFIG, ...options.config },
    resume,
    ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
    checkpoints: options.checkpoints ?? { onStop: true },
    retention: options.retention ?? {},
    logEvery: 1,
    backend: options.backend ?? 'cpu',
  });
  try {
    const result = await runTrainingSession({
      store: { kind: 'storage', storage, connection },
      request,
      control: options.control ?? newControl(),
      onEvent: (event) => {
        events.push(event);
        options.onEvent?.(event);
      },
      ...(options.finalRetryMs === undefined ? {} : { finalRetryMs: options.finalRetryMs }),
    });
    return { result, events };
  } finally {
    storage.client.destroy();
  }
}
