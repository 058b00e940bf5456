// How a test child talks to its parent, as the real trainer finds it: Electron's
// `process.parentPort` in a utility process (or its stand-in), process.send in a fork.
interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

export interface ParentChannel {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}

export function parentChannel(): ParentChannel {
  const port = Reflect.get(process, 'parentPort') as ParentPort | undefined;
  if (port) return { send: (message) => port.postMessage(message), onMessage: (listener) => port.on('message', (event) => listener(event.data)) };
  const send = process.send?.bind(process);
  if (!send) throw new Error('a test child needs a parent to talk to');
  return { send: (message) => void send(message), onMessage: (listener) => process.on('message', listener) };
}
