// The charts' smoothing is the Studio's (electron/shared/smoothing.ts): a run too long to send
// whole is smoothed there over every point, and must match what the page smooths itself.
export * from '../../../electron/shared/smoothing.js';
