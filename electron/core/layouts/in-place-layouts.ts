// The layouts the store is opened with (checkpoint/in-place.ts): each folder's listing is read by
// the first layout that recognises its checkpoints, and what else must change on a deletion or a
// "make latest" is the layout's to say.
import type { InPlaceLayouts, InPlaceRun } from '../checkpoint/in-place.js';
import { RefusedError } from '../base/errors.js';
import { scanTfFolder } from './tf-folder.js';
import { verifyInPlace } from './verify-in-place.js';

export const inPlaceLayouts: InPlaceLayouts = {
  async scanFolder(listing) {
    const runs: InPlaceRun[] = [];
    const tf = await scanTfFolder(listing);
    if (tf) runs.push(tf);
    return runs;
  },
  verify: verifyInPlace,
  async rewritesForDelete() {
    return [];
  },
  async rewritesForLatest(dir, run) {
    throw new RefusedError(dir, `${run.label} has no state file that names a latest checkpoint`);
  },
};
