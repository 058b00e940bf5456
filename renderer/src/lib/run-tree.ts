// Runs in lineage order: each run directly under its parent (the run its run.json's parent names),
// its own branches under it, siblings in the order they were made. Listing runs by creation time
// alone and indenting by depth put a continued run under whichever run happened to be made just
// before it (alpha-live under gamma). A run whose parent is not in the list starts its own tree.

export interface TreeInput {
  readonly name: string;
  readonly parent: string | null;
}

export interface TreeNode {
  readonly name: string;
  /** The parent as run.json names it, listed or not. */
  readonly parent: string | null;
  /** How far under a listed ancestor: 0 for a root (or a run whose parent is not listed). */
  readonly depth: number;
}

/** `runs` in creation order; the answer keeps that order among siblings. */
export function lineageOrder(runs: readonly TreeInput[]): TreeNode[] {
  const parentOf = new Map(runs.map((r) => [r.name, r.parent]));
  const children = new Map<string, TreeInput[]>();
  const roots: TreeInput[] = [];
  for (const run of runs) {
    const parent = run.parent;
    if (parent !== null && parent !== run.name && parentOf.has(parent)) children.set(parent, [...(children.get(parent) ?? []), run]);
    else roots.push(run);
  }
  const out: TreeNode[] = [];
  const placed = new Set<string>();
  // Iterative, so a chain of thousands of continuations cannot overflow the stack.
  const visit = (root: TreeInput): void => {
    const stack: { run: TreeInput; depth: number }[] = [{ run: root, depth: 0 }];
    while (stack.length > 0) {
      const { run, depth } = stack.pop() as { run: TreeInput; depth: number };
      if (placed.has(run.name)) continue;
      placed.add(run.name);
      out.push({ name: run.name, parent: parentOf.get(run.name) ?? null, depth });
      const kids = children.get(run.name) ?? [];
      for (let i = kids.length - 1; i >= 0; i -= 1) stack.push({ run: kids[i] as TreeInput, depth: depth + 1 });
    }
  };
  for (const root of roots) visit(root);
  // Runs in a cycle of parents (hand-edited run.json) reach no root: listed at the end, flat.
  for (const run of runs) if (!placed.has(run.name)) visit({ name: run.name, parent: null });
  return out;
}
