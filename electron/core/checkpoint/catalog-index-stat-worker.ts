// Stats the paths it is given (the second half of a big batch, catalog-index-stat.ts) and answers
// with their identities, four numbers each.
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { fillIdentities } from './catalog-index-stat.js';

const paths = z.array(z.string()).parse(workerData);
const out = new Float64Array(paths.length * 4);
fillIdentities(paths, out);
parentPort?.postMessage(out, [out.buffer]);
