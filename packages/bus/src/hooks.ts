import type { Device } from './device';

/** A DMA-configure hook: 0, or a negative errno (-EPROBE_DEFER defers the probe). */
export type ConfigureHook = (dev: Device) => number;
/** A teardown hook: undoes what a configure hook did. */
export type TeardownHook = (dev: Device) => void;

interface HookEntry<F> {
  readonly name: string;
  readonly priority: number;
  readonly fn: F;
}

/**
 * An ordered list of named hooks that higher layers fill (the bus `dma_configure` path, the arch
 * teardown). Higher priority runs first; equal priority keeps registration order, like a notifier
 * chain, so the order never depends on anything but registration.
 */
export class HookList<F> {
  private entries: HookEntry<F>[] = [];

  constructor(readonly name: string) {}

  /** Adds a hook; returns a function that removes it. */
  add(name: string, fn: F, priority = 0): () => void {
    const entry = { name, priority, fn };
    let at = this.entries.findIndex((e) => priority > e.priority);
    if (at < 0) at = this.entries.length;
    const next = this.entries.slice();
    next.splice(at, 0, entry);
    this.entries = next;
    return () => {
      this.entries = this.entries.filter((e) => e !== entry);
    };
  }

  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  get length(): number {
    return this.entries.length;
  }

  /** Snapshot of the hooks in call order. */
  list(): readonly HookEntry<F>[] {
    return this.entries;
  }
}
