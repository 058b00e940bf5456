// The renderer's one door to the Node side's definitions: the contract's schemas and types. The
// rest of the renderer imports them from here, so the path and its `.js` spelling live in one place.
export * from '../../../electron/contract.js';
