// The connection indicator's state, from the host's connection source (always open in the
// desktop app). A reconnection makes every other state re-read what it may have missed.
import type { ConnectionSource } from '../lib/host';
import type { ConnectionInfo } from '../lib/ws-client';

export class ConnectionState {
  info = $state.raw<ConnectionInfo>({ status: 'connecting', failures: 0, retryAt: null });

  readonly open = $derived(this.info.status === 'open');
  readonly missingToken: boolean;

  private readonly off: () => void;

  constructor(source: ConnectionSource) {
    this.info = source.connection;
    this.missingToken = source.missingToken;
    this.off = source.onConnection((info) => {
      this.info = info;
    });
  }

  dispose(): void {
    this.off();
  }
}
