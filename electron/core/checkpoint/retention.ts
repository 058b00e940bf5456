// Retention policies. Planning is pure (a dry run by construction); applying deletes exactly
// the planned set through the trash. A policy only ever looks at its own run, and never
// deletes what a person would regret: pinned, the current best, the latest, what a training
// was restored from, the parent of another run, or anything this program did not write.
import type { CheckpointInfo, RetentionDecision, RetentionPlan } from '../../contract.js';
import { isUsable, rankByMetric } from './catalog.js';
import { formatBytes } from '../format-bytes.js';
import type { RetentionPolicy, RunRetention } from './run-files.js';

const HOUR_MS = 3_600_000;

export interface PlanContext {
  /** Ids that must survive: what a running training restored from, for instance. */
  readonly protectedIds?: ReadonlySet<string>;
  /** Why each protected id is protected, when the caller knows better than the default. */
  readonly protectedReasons?: ReadonlyMap<string, string>;
  /**
   * The run is another program's folder read in place: its checkpoints are all its program's, and
   * pruning them is what its policy is for; in our runs, one not written by this store is kept.
   */
  readonly inPlace?: boolean;
  /** The run's latest when it is not simply its highest step (a TensorFlow state file may point back). */
  readonly latestId?: string;
}

export function isPolicyEmpty(policy: RetentionPolicy): boolean {
  return (
    policy.keepLast === undefined &&
    policy.keepBest === undefined &&
    policy.keepEverySteps === undefined &&
    policy.keepEveryHours === undefined &&
    policy.maxBytes === undefined
  );
}

/**
 * Decides, for one run's checkpoints, what a policy keeps and deletes, each with its reasons.
 * Touches nothing.
 */
export function planRetention(run: string, checkpoints: readonly CheckpointInfo[], retention: RunRetention, context: PlanContext = {}): RetentionPlan {
  const own = checkpoints.filter((c) => c.run === run).sort((a, b) => a.step - b.step);
  const policy = retention.policy;
  const reasons = new Map<string, string[]>(own.map((c) => [c.id, []]));
  const protectedIds = new Set<string>();
  const note = (c: CheckpointInfo, reason: string, protect = false): void => {
    reasons.get(c.id)?.push(reason);
    if (protect) protectedIds.add(c.id);
  };
  const usable = own.filter(isUsable);
  const pinnedNames = new Set(retention.pinned);

  for (const c of own) {
    if (!isUsable(c)) note(c, `${c.status}: left for you to inspect or delete by hand`, true);
    if (c.pinned || pinnedNames.has(c.path.split(/[\\/]/).pop() ?? '')) note(c, 'pinned', true);
    if (c.linked) note(c, 'linked folder (not written by this store)', true);
    if (c.sameStepAs.length > 0) note(c, `holds the same step as ${c.sameStepAs.join(', ')}: left for you to resolve`, true);
    if (c.origin !== 'trained' && !context.inPlace) note(c, `${c.origin} (not written by this store)`, true);
    if (context.protectedIds?.has(c.id)) note(c, context.protectedReasons?.get(c.id) ?? 'a running training was restored from it', true);
    // Other runs continued from it: the catalog says which (CheckpointInfo.protectedBy).
    for (const protection of c.protectedBy) if (protection.kind === 'parent') note(c, protection.reason, true);
  }
  const latest = usable.find((c) => c.id === context.latestId) ?? usable[usable.length - 1];
  if (latest) note(latest, 'latest', true);
  if (policy.keepBest) {
    const ranked = rankByMetric(usable, policy.keepBest.metric, policy.keepBest.mode);
    const best = ranked[0];
    if (best) note(best, `best ${policy.keepBest.metric} (${best.metrics[policy.keepBest.metric]})`, true);
    ranked.slice(0, policy.keepBest.k).forEach((c, i) => note(c, `keep-best ${policy.keepBest?.k}: #${i + 1} by ${policy.keepBest?.metric}`));
  }
  if (policy.keepLast !== undefined) {
    usable.slice(-policy.keepLast).forEach((c) => note(c, `keep-last ${policy.keepLast}`));
  }
  if (policy.keepEverySteps !== undefined) {
    const every = policy.keepEverySteps;
    usable.filter((c) => c.step % every === 0).forEach((c) => note(c, `keep-every ${every} steps`));
  }
  if (policy.keepEveryHours !== undefined) {
    // As TensorFlow's keep_checkpoint_every_n_hours: the first checkpoint of each window.
    const windowMs = policy.keepEveryHours * HOUR_MS;
    let lastKept = -Infinity;
    for (const c of usable) {
      const time = c.createdAt ? Date.parse(c.createdAt) : NaN;
      if (Number.isFinite(time) && time - lastKept >= windowMs) {
        note(c, `keep-every ${policy.keepEveryHours} h`);
        lastKept = time;
      }
    }
  }

  const onlyBudget =
    policy.keepLast === undefined && policy.keepBest === undefined && policy.keepEverySteps === undefined && policy.keepEveryHours === undefined;
  const keptByRules = (c: CheckpointInfo): boolean => (reasons.get(c.id)?.length ?? 0) > 0;
  const deleteReasons = new Map<string, string>();
  if (!isPolicyEmpty(policy) && !onlyBudget) {
    for (const c of own) if (!keptByRules(c)) deleteReasons.set(c.id, 'not kept by any rule of the policy');
  }
  const warnings: string[] = [];
  if (policy.maxBytes !== undefined) {
    let total = own.filter((c) => !deleteReasons.has(c.id)).reduce((s, c) => s + c.bytes, 0);
    // Oldest first; protected ones are never candidates.
    for (const c of own) {
      if (total <= policy.maxBytes) break;
      if (deleteReasons.has(c.id) || protectedIds.has(c.id)) continue;
      deleteReasons.set(c.id, `over the disk budget of ${formatBytes(policy.maxBytes)}`);
      total -= c.bytes;
    }
    if (total > policy.maxBytes) {
      warnings.push(
        `run "${run}" still uses ${formatBytes(total)} after pruning, over its budget of ${formatBytes(policy.maxBytes)}: what is left is protected`,
      );
    }
  }

  const keep: RetentionDecision[] = [];
  const remove: RetentionDecision[] = [];
  for (const c of own) {
    const deletion = deleteReasons.get(c.id);
    if (deletion !== undefined) remove.push({ id: c.id, step: c.step, bytes: c.bytes, reasons: [deletion] });
    else
      keep.push({ id: c.id, step: c.step, bytes: c.bytes, reasons: reasons.get(c.id)?.length ? (reasons.get(c.id) as string[]) : ['no policy rule applies'] });
  }
  return { run, policy, keep, delete: remove, bytesFreed: remove.reduce((s, d) => s + d.bytes, 0), warnings };
}

/** Folds the current best into what the run remembers, so a restart knows the best so far. */
export function rememberBest(retention: RunRetention, checkpoints: readonly CheckpointInfo[]): RunRetention {
  const rule = retention.policy.keepBest;
  if (!rule) return retention;
  const best = rankByMetric(checkpoints.filter(isUsable), rule.metric, rule.mode)[0];
  if (!best) return retention;
  const value = best.metrics[rule.metric] as number;
  const seen = retention.bestSeen;
  const better = !seen || seen.metric !== rule.metric || seen.mode !== rule.mode || (rule.mode === 'min' ? value < seen.value : value > seen.value);
  return better ? { ...retention, bestSeen: { metric: rule.metric, mode: rule.mode, value, step: best.step } } : retention;
}
