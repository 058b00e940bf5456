// A run's configuration as the Runs table reads it: run.json's `config` (ours) or a TensorBoard
// run's hparams (runConfig answers both), flattened to dotted keys (`optimizer.learningRate`), and
// what a continued run changed from its parent's.
import type { RunMeta } from './contract';

export type JsonValue = RunMeta['config'][string];

export type FlatConfig = ReadonlyMap<string, JsonValue>;

const MAX_DEPTH = 6;

export function flattenConfig(config: Readonly<Record<string, JsonValue>>): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>();
  const walk = (value: JsonValue, key: string, depth: number): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < MAX_DEPTH && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v as JsonValue, key === '' ? k : `${key}.${k}`, depth + 1);
    } else if (key !== '') out.set(key, value);
  };
  walk(config as JsonValue, '', 0);
  return out;
}

/** A value as one cell shows it: strings as they are, everything else as JSON. */
export function configText(value: JsonValue | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface ConfigChange {
  readonly key: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly from?: JsonValue;
  readonly to?: JsonValue;
}

/** What `child` changed from `parent`, key by key (flattened), in key order. */
export function configDiff(parent: FlatConfig, child: FlatConfig): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const keys = [...new Set([...parent.keys(), ...child.keys()])].sort();
  for (const key of keys) {
    const had = parent.has(key);
    const has = child.has(key);
    if (had && !has) changes.push({ key, kind: 'removed', from: parent.get(key) as JsonValue });
    else if (!had && has) changes.push({ key, kind: 'added', to: child.get(key) as JsonValue });
    else if (JSON.stringify(parent.get(key)) !== JSON.stringify(child.get(key)))
      changes.push({ key, kind: 'changed', from: parent.get(key) as JsonValue, to: child.get(key) as JsonValue });
  }
  return changes;
}
