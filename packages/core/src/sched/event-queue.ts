/** A scheduled callback. */
export interface TimedEvent {
  readonly time: number;
  readonly seq: number;
  readonly label: string;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A binary min-heap of events by (time, seq): equal times run in the order they were scheduled. */
export class EventQueue {
  private readonly heap: TimedEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): TimedEvent | undefined {
    return this.heap[0];
  }

  push(ev: TimedEvent): void {
    const h = this.heap;
    // sift up by moving parents down into the hole, then drop ev in once (no swaps)
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1; // heap index, not an address
      const parent = h[p]!;
      if (!before(ev, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
  }

  pop(): TimedEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    // sift the last element down from the root through the hole left by the top
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let m = l;
      let child = h[l]!;
      if (r < n) {
        const right = h[r]!;
        if (before(right, child)) {
          m = r;
          child = right;
        }
      }
      if (!before(child, last)) break;
      h[i] = child;
      i = m;
    }
    h[i] = last;
    return top;
  }
}

function before(a: TimedEvent, b: TimedEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
