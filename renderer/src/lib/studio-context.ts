// The one StudioApi the renderer talks to, handed down through Svelte's context: Electron's
// preload object or browser mode's WebSocket client, and, in tests, a fake. Components never reach
// for window.studio themselves.
import { createContext } from 'svelte';
import type { StudioApi } from './contract';

export const [getStudio, setStudio] = createContext<StudioApi>();
