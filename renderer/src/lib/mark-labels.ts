// How the core's marks (api.marks) read on a checkpoint: a run's own latest or best says nothing
// more where the checkpoint is the workspace's latest or best too.

/** A run's own best: `best(<run>) <metric>` (the run's name may hold spaces and parentheses). */
export function isRunBest(mark: string): boolean {
  return mark.startsWith('best(');
}

/** The workspace's best: `best <metric>`. */
export function isWorkspaceBest(mark: string): boolean {
  return mark.startsWith('best ');
}

export function shownMarks(marks: readonly string[]): string[] {
  const workspaceBest = marks.some(isWorkspaceBest);
  return marks.filter((m) => !(m.startsWith('latest(') && marks.includes('latest')) && !(isRunBest(m) && workspaceBest));
}

export function chipLabel(mark: string): string {
  if (mark.startsWith('latest(')) return "run's latest";
  if (isRunBest(mark)) return `run's best ${mark.slice(mark.lastIndexOf(') ') + 2)}`;
  return mark;
}
