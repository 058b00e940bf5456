// Where the command's text goes. A reader that goes away (`checkpoint-studio ls | head -n1`,
// a log pipe that breaks on a training server) is not an error of ours: once stdout or stderr
// is closed we stop writing to it quietly and carry on, so a training run still saves and ends
// as it would have, and the exit code is the usual one.

export interface Output {
  line(text: string): void;
  json(value: unknown): void;
  /** Raw text (a progress bar's carriage returns), nothing appended. */
  write(text: string): void;
}

interface SafeStream {
  closed: boolean;
  write(text: string): void;
}

function safeStream(stream: NodeJS.WriteStream): SafeStream {
  const safe: SafeStream = {
    closed: false,
    write: (text) => {
      if (safe.closed) return;
      try {
        stream.write(text);
      } catch (error) {
        if (!isClosedPipe(error)) throw error;
        safe.closed = true;
      }
    },
  };
  // Node reports a write to a closed pipe as an 'error' event; unhandled, it would crash us.
  stream.on('error', (error: unknown) => {
    if (isClosedPipe(error)) safe.closed = true;
    else throw error;
  });
  return safe;
}

function isClosedPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

let streams: { out: SafeStream; err: SafeStream } | null = null;

function standardStreams(): { out: SafeStream; err: SafeStream } {
  streams ??= { out: safeStream(process.stdout), err: safeStream(process.stderr) };
  return streams;
}

function outputOf(stream: () => SafeStream): Output {
  return {
    line: (text) => stream().write(`${text}\n`),
    json: (value) => stream().write(`${JSON.stringify(value, null, 2)}\n`),
    write: (text) => stream().write(text),
  };
}

export const stdout: Output = outputOf(() => standardStreams().out);
export const stderr: Output = outputOf(() => standardStreams().err);
