// The Studio's event hub: typed by the contract's event map. A listener that throws is reported
// as a warning, never allowed to break the Studio or the listeners after it.
import type { StudioEventName, StudioEventPayload, StudioListener } from '../../contract.js';

export class StudioEvents {
  private readonly listeners = new Map<StudioEventName, Set<(payload: never) => void>>();

  on<E extends StudioEventName>(event: E, listener: StudioListener<E>): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as (payload: never) => void);
    this.listeners.set(event, set);
    return () => {
      set.delete(listener as (payload: never) => void);
    };
  }

  emit<E extends StudioEventName>(event: E, payload: StudioEventPayload<E>): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as StudioListener<E>)(payload);
      } catch (error) {
        if (event !== 'warning')
          this.emit('warning', { message: `a listener of "${event}" failed: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
  }
}
