import type { OrderCounter, Precedence } from './explain';

/** Where an edge of the order tree leads: another node, or the end of a run with its outcome. */
export type Target = { readonly node: string } | { readonly outcome: string };

interface Node {
  /** The decision the node's pick belongs to (`device-add`, `deferred-probe#1`). */
  readonly decision: string;
  readonly remaining: readonly string[];
  readonly edges: Map<string, Target>;
}

/**
 * The explored orders as a graph: nodes are (decision point, items left, machine state); an edge is
 * one choice. Orders that reach the same node share everything after it, so counting paths from the
 * root gives how many orders lead to each outcome without running them all, and walking the paths
 * gives every order itself.
 */
export class OrderGraph {
  private readonly nodes = new Map<string, Node>();
  root: Target | null = null;

  has(node: string): boolean {
    return this.nodes.has(node);
  }

  addNode(node: string, decision: string, remaining: readonly string[]): void {
    if (!this.nodes.has(node)) this.nodes.set(node, { decision, remaining, edges: new Map() });
  }

  get size(): number {
    return this.nodes.size;
  }

  link(from: { node: string; choice: string } | null, to: Target): void {
    if (from === null) {
      this.root ??= to;
      return;
    }
    this.nodes.get(from.node)?.edges.set(from.choice, to);
  }

  /** Orders per outcome signature: paths from the root to each outcome. */
  countOrders(): Map<string, number> {
    return this.counter().orderCounts();
  }

  /** Counts orders satisfying conditions over precedences, by walking the graph (see GraphCounter). */
  counter(): GraphCounter {
    return new GraphCounter(this.root, this.nodes);
  }
}

/** Truth of a literal along a path: not decided yet, true, false. */
const UNKNOWN = 0;
const TRUE = 1;
const FALSE = 2;

/** A node with integer ids: targets >= 0 are nodes, < 0 are outcome `-1 - index`. */
interface IndexedNode {
  readonly decision: string;
  readonly remaining: ReadonlySet<string>;
  readonly choices: readonly string[];
  readonly targets: Int32Array;
}

/**
 * Counts the orders of a merged graph that satisfy a condition, without listing them: a walk from
 * the root that carries the truth of each literal of the condition (a literal "A before B at D" is
 * decided at the first pick of A or B in decision D, and false if the path ends with it undecided),
 * memoised per node and truth vector, and cut short as soon as the condition is decided (the
 * orders below are then counted per outcome). Every node knows its decision, so one node reached
 * by different paths means the same to every literal.
 */
export class GraphCounter implements OrderCounter {
  private readonly indexed: IndexedNode[] = [];
  private readonly outcomes: string[] = [];
  /** Orders below each node, per outcome index. */
  private readonly below: Float64Array[] = [];
  private readonly root: number | null;
  private universe: Precedence[] | null = null;

  constructor(root: Target | null, nodes: ReadonlyMap<string, Node>) {
    const ids = new Map<string, number>();
    for (const k of nodes.keys()) ids.set(k, ids.size);
    const outcomeIds = new Map<string, number>();
    const targetOf = (t: Target): number => {
      if ('node' in t) return ids.get(t.node) ?? -0x7fffffff;
      let o = outcomeIds.get(t.outcome);
      if (o === undefined) {
        o = outcomeIds.size;
        outcomeIds.set(t.outcome, o);
        this.outcomes.push(t.outcome);
      }
      return -1 - o;
    };
    for (const n of nodes.values()) {
      this.indexed.push({ decision: n.decision, remaining: new Set(n.remaining), choices: [...n.edges.keys()], targets: Int32Array.from([...n.edges.values()].map(targetOf)) });
    }
    this.root = root === null ? null : targetOf(root);
    // orders below each node, children first (the graph is acyclic: states only move forward)
    const k = this.outcomes.length;
    const state = new Uint8Array(this.indexed.length);
    const visit = (i: number): Float64Array => {
      if (state[i] === 2) return this.below[i]!;
      const total = new Float64Array(k);
      this.below[i] = total;
      if (state[i] === 1) return total; // guards a malformed graph
      state[i] = 1;
      for (const t of this.indexed[i]!.targets) {
        if (t === -0x7fffffff) continue;
        if (t < 0) total[-1 - t]!++;
        else {
          const sub = visit(t);
          for (let o = 0; o < k; o++) total[o]! += sub[o]!;
        }
      }
      state[i] = 2;
      return total;
    };
    for (let i = 0; i < this.indexed.length; i++) visit(i);
  }

  /** Orders per outcome signature: paths from the root to each outcome. */
  orderCounts(): Map<string, number> {
    const out = new Map<string, number>();
    if (this.root === null) return out;
    if (this.root < 0) return new Map([[this.outcomes[-1 - this.root]!, 1]]);
    this.below[this.root]!.forEach((n, o) => {
      if (n > 0) out.set(this.outcomes[o]!, n);
    });
    return out;
  }

  literals(): readonly Precedence[] {
    if (this.universe !== null) return this.universe;
    const seen = new Set<string>();
    const out: Precedence[] = [];
    for (const n of this.indexed) {
      for (const before of n.remaining) {
        for (const after of n.remaining) {
          const key = `${n.decision}\u0000${before}\u0000${after}`;
          if (before === after || seen.has(key)) continue;
          seen.add(key);
          out.push({ decision: n.decision, before, after });
        }
      }
    }
    this.universe = out;
    return out;
  }

  count(outcome: string, conj: readonly Precedence[], covered: readonly (readonly Precedence[])[]): { pos: number; neg: number } {
    if (this.root === null) return { pos: 0, neg: 0 };
    const target = this.outcomes.indexOf(outcome);
    const lits: Precedence[] = [];
    const index = (l: Precedence): number => {
      let i = lits.findIndex((x) => x.decision === l.decision && x.before === l.before && x.after === l.after);
      if (i < 0) i = lits.push(l) - 1;
      return i;
    };
    const conjIdx = conj.map(index);
    const coveredIdx = covered.map((t) => t.map(index));
    // three-valued: TRUE, FALSE, or UNKNOWN while a literal is undecided (at the end: false)
    const all = (idx: readonly number[], st: Uint8Array, final: boolean): number => {
      let unknown = false;
      for (const i of idx) {
        const v = st[i]!;
        if (v === FALSE || (v === UNKNOWN && final)) return FALSE;
        if (v === UNKNOWN) unknown = true;
      }
      return unknown ? UNKNOWN : TRUE;
    };
    const any = (st: Uint8Array, final: boolean): number => {
      let unknown = false;
      for (const t of coveredIdx) {
        const v = all(t, st, final);
        if (v === TRUE) return TRUE;
        if (v === UNKNOWN) unknown = true;
      }
      return unknown ? UNKNOWN : FALSE;
    };
    const k = this.outcomes.length;
    const ordersBelow = (t: number): { pos: number; neg: number } => {
      if (t < 0) return -1 - t === target ? { pos: 1, neg: 0 } : { pos: 0, neg: 1 };
      const b = this.below[t]!;
      let neg = 0;
      for (let o = 0; o < k; o++) if (o !== target) neg += b[o]!;
      return { pos: target < 0 ? 0 : b[target]!, neg };
    };
    // a truth vector and node packed into one safe integer when they fit, else a string key
    const small = 3 ** lits.length * (this.indexed.length + 1) < Number.MAX_SAFE_INTEGER;
    const memo = new Map<number | string, { pos: number; neg: number }>();
    const walk = (t: number, st: Uint8Array): { pos: number; neg: number } => {
      if (t === -0x7fffffff) return { pos: 0, neg: 0 };
      const final = t < 0;
      const c = all(conjIdx, st, final);
      if (c === FALSE) return { pos: 0, neg: 0 };
      const e = any(st, final);
      if (c === TRUE && e !== UNKNOWN) {
        const r = ordersBelow(t);
        return e === FALSE ? r : { pos: 0, neg: r.neg };
      }
      if (final) return { pos: 0, neg: 0 }; // unreachable: at the end nothing is undecided
      let code: number | string = t;
      if (small) {
        let v = 0;
        for (let i = 0; i < st.length; i++) v = v * 3 + st[i]!;
        code = v * this.indexed.length + t;
      } else code = `${t}:${st.join('')}`;
      const cached = memo.get(code);
      if (cached) return cached;
      const node = this.indexed[t]!;
      let pos = 0;
      let neg = 0;
      for (let j = 0; j < node.choices.length; j++) {
        const choice = node.choices[j]!;
        let after = st;
        for (let i = 0; i < lits.length; i++) {
          const l = lits[i]!;
          if (st[i] !== UNKNOWN || l.decision !== node.decision) continue;
          const v = choice === l.before && node.remaining.has(l.after) ? TRUE : choice === l.after && node.remaining.has(l.before) ? FALSE : UNKNOWN;
          if (v === UNKNOWN) continue;
          if (after === st) after = st.slice();
          after[i] = v;
        }
        const r = walk(node.targets[j]!, after);
        pos += r.pos;
        neg += r.neg;
      }
      const result = { pos, neg };
      memo.set(code, result);
      return result;
    };
    return walk(this.root, new Uint8Array(lits.length));
  }
}
