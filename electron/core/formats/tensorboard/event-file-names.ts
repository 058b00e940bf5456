// Event file names. TensorFlow's EventsWriter names a file
//   <prefix>.out.tfevents.<%010d Unix seconds>.<hostname><suffix>      (core/util/events_writer.cc)
// with prefix `events`; TF2's `tf.summary.create_file_writer` makes the suffix
// `.<pid>.<process-unique id>.v2` (python/ops/summary_ops_v2.py), TF1's FileWriter leaves it empty.
// TensorBoard itself is looser: a file is an event file when its base name contains "tfevents"
// (data/server/logdir.rs EVENT_FILE_BASENAME_INFIX, backend io_wrapper.IsTensorFlowEventsFile),
// and a run's files are read in name order, which the zero-padded timestamp makes their order of
// creation (run.rs: "Event files are sorted and read lexicographically by name, which is designed
// to coincide with actual start time").
import os from 'node:os';

// One definition, in the store's names on disk (our run folders hold one such file).
export { EVENT_FILE_INFIX, isEventFileName } from '../../checkpoint/layout.js';

export interface EventFileNameParts {
  /** The writer's start, Unix seconds. */
  readonly timestamp: number;
  readonly hostname: string;
  /** What follows the hostname, as written (`.11684.5.v2`; empty for TF1). */
  readonly suffix: string;
}

const CANONICAL = /^events\.out\.tfevents\.(\d+)\.(.+)$/;
/** TF2's suffix; a hostname has dots too, so the suffix is found from the end. */
const TF2_SUFFIX = /(\.\d+\.\d+\.v2)$/;

/** The parts of a name TensorFlow wrote (`events.out.tfevents.<seconds>.<host>…`); null for another name. */
export function parseEventFileName(name: string): EventFileNameParts | null {
  const match = CANONICAL.exec(name);
  if (!match) return null;
  const rest = match[2] as string;
  const suffix = TF2_SUFFIX.exec(rest)?.[1] ?? (rest.endsWith('.v2') ? '.v2' : '');
  return { timestamp: Number(match[1]), hostname: rest.slice(0, rest.length - suffix.length), suffix };
}

/**
 * The order TensorBoard reads a run's files in: by name, compared as strings. Rust's BTreeMap of
 * paths compares bytes and Python's sorted() code points; the two agree on every name TensorFlow
 * writes (ASCII), and on any other name up to surrogate pairs.
 */
export function compareEventFileNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How our writer names its file, as TF2 names one: `events.out.tfevents.<seconds>.<host>.<pid>.<n>.v2`. */
export function eventFileName(seconds: number, n: number, hostname = os.hostname(), pid = process.pid): string {
  // A hostname is never a path, but one that held a separator would make this name one.
  const host = hostname.replace(/[/\\]/g, '_') || 'localhost';
  return `events.out.tfevents.${String(Math.floor(seconds)).padStart(10, '0')}.${host}.${pid}.${n}.v2`;
}
