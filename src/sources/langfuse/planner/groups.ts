// Spend per group value over some stretch of time. A key is present when Langfuse had rows for
// it there, even at $0: the unplanned source reports such groups, so the planner must too.
export type GroupKey = string | null;
export type Groups = Map<GroupKey, number>;

export function addGroups(into: Groups, from: ReadonlyMap<GroupKey, number>): void {
  for (const [key, cost] of from) into.set(key, (into.get(key) ?? 0) + cost);
}

export function totalOf(groups: ReadonlyMap<GroupKey, number>): number {
  let total = 0;
  for (const cost of groups.values()) total += cost;
  return total;
}
