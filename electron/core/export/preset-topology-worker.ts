// Builds one of our model presets with TensorFlow.js and answers with its Keras JSON, as
// model.save would store it: the TF.js export needs that topology. It runs in a worker thread so
// that loading TensorFlow.js never happens on the thread that answers the app.
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { ModelSpecSchema } from '../../contract.js';
import { buildModel } from '../training/engine/models.js';

function topology(): unknown {
  const spec = ModelSpecSchema.parse(workerData);
  // tfjs's "install the node backend" notice (its first tensor on the cpu backend) would be noise in an export's output.
  tf.env().set('PROD', true);
  const model = buildModel(spec);
  try {
    return model.toJSON(null, false);
  } finally {
    model.dispose();
  }
}

try {
  parentPort?.postMessage({ ok: true, topology: topology() });
} catch (error) {
  parentPort?.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
}
