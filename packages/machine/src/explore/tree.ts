/** Where an edge of the order tree leads: another node, or the end of a run with its outcome. */
export type Target = { readonly node: string } | { readonly outcome: string };

/**
 * The explored orders as a graph: nodes are (decision point, items left, machine state); an edge is
 * one choice. Orders that reach the same node share everything after it, so counting paths from the
 * root gives how many orders lead to each outcome without running them all.
 */
export class OrderGraph {
  private readonly edges = new Map<string, Map<string, Target>>();
  root: Target | null = null;

  has(node: string): boolean {
    return this.edges.has(node);
  }

  addNode(node: string): void {
    if (!this.edges.has(node)) this.edges.set(node, new Map());
  }

  get size(): number {
    return this.edges.size;
  }

  link(from: { node: string; choice: string } | null, to: Target): void {
    if (from === null) {
      this.root ??= to;
      return;
    }
    this.addNode(from.node);
    this.edges.get(from.node)!.set(from.choice, to);
  }

  /** Orders per outcome signature: paths from the root to each outcome. */
  countOrders(): Map<string, number> {
    const memo = new Map<string, Map<string, number>>();
    const countFrom = (t: Target, stack: Set<string>): Map<string, number> => {
      if ('outcome' in t) return new Map([[t.outcome, 1]]);
      const cached = memo.get(t.node);
      if (cached) return cached;
      if (stack.has(t.node)) return new Map<string, number>(); // cannot happen in a run; guards a malformed graph
      stack.add(t.node);
      const total = new Map<string, number>();
      for (const child of this.edges.get(t.node)?.values() ?? []) {
        for (const [sig, n] of countFrom(child, stack)) total.set(sig, (total.get(sig) ?? 0) + n);
      }
      stack.delete(t.node);
      memo.set(t.node, total);
      return total;
    };
    return this.root === null ? new Map<string, number>() : countFrom(this.root, new Set());
  }
}
