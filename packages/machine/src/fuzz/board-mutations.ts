import fc from 'fast-check';
import type { SeedBoard } from './seed-boards';

/**
 * Board mutations as an attacker or a careless user makes them: a value replaced by one of the
 * wrong type or size, a key deleted, a list entry duplicated (once or a thousand times), firmware
 * `properties` of every shape, subtrees swapped between places.
 */
export type Mutation =
  | { readonly op: 'set'; readonly at: number; readonly value: unknown }
  /** Replaces a value by one of the same type (so the schema lets it through): edge numbers, other names. */
  | { readonly op: 'retype'; readonly at: number; readonly pick: number }
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'duplicate'; readonly at: number; readonly times: number }
  | { readonly op: 'property'; readonly device: number; readonly key: string; readonly value: unknown }
  | { readonly op: 'copy'; readonly from: number; readonly to: number };

export interface MutatedBoard {
  readonly seed: string;
  readonly mutations: readonly Mutation[];
  readonly board: unknown;
}

/** Values that break code that trusts its input: edges of number ranges, wrong types, odd strings. */
const nasty: unknown[] = [
  0, -1, 1, 0.5, -0.5, 7, 12, 31, 64, 65, 255, 4096, 0xffff, 0x10000, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 40, 2 ** 48, 2 ** 53 - 1, 2 ** 53, 2 ** 64,
  Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -(2 ** 53),
  '', 'x', '0x', '0x0', '-1', '1TiB', '256TiB', '4GiB', '-4KiB', '0.5MiB', 'NaN', '1e400', ' 0x1000 ', 'generic-ehci', 'arm,mmu-500', 'soc', 'pcie0', 'smmu0', 'ehci',
  null, true, false, [], {}, [1, 2, 3], [[1]], ['a'], { a: 1 }, [{ node: 'smmu0', args: [0] }], 'linux-4.2', 'arm', 'arm64', 'per-iommu', 'shuffle', 'reverse',
];

/** Property names the firmware readers and device models look at. */
const propertyKeys = ['compatible', 'iommus', 'reg', 'interrupts', 'dma-ranges', 'dma-coherent', '#iommu-cells', 'mmu-masters', 'iommu-map', 'iommu-map-mask', 'status', 'dma-mask', 'num-lanes', 'queue-depth', 'ring-size', 'x'];

const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...nasty) },
  { weight: 2, arbitrary: fc.integer({ min: -10, max: 0x10000 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.integer({ min: -1, max: 0xffffffff }), fc.constantFrom(...nasty)), { maxLength: 6 }) },
);

const numbers = nasty.filter((v): v is number => typeof v === 'number');
const sizeStrings = ['0', '1', '4KiB', '1MiB', '4GiB', '1TiB', '256TiB', '0x1000', '0xffffffff', '0x100000000'];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value }) },
  { weight: 10, arbitrary: fc.record({ op: fc.constant('retype' as const), at: fc.nat(), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), times: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(200, 1000)) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('property' as const), device: fc.nat(), key: fc.constantFrom(...propertyKeys), value }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('copy' as const), from: fc.nat(), to: fc.nat() }) },
);

type Path = (string | number)[];

/** Every path in the tree (objects and lists included), parents before children. */
function paths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (v === null || typeof v !== 'object') return out;
  for (const [k, child] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    paths(child, p, out);
  }
  return out;
}

function parentOf(root: unknown, p: Path): Record<string | number, unknown> | undefined {
  let cur = root;
  for (const k of p.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>) : undefined;
}

function get(root: unknown, p: Path): unknown {
  const parent = parentOf(root, p);
  return parent?.[p[p.length - 1]!];
}

/** Every string in the tree: names of buses, devices, IOMMUs, compatibles, kinds. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (v !== null && typeof v === 'object') for (const c of Object.values(v)) strings(c, out);
  return out;
}

/** Another value of the type `cur` has: an edge number, another name of the board, a size string. */
function sameType(cur: unknown, pick: number, board: unknown): unknown {
  if (typeof cur === 'number') return pick % 3 === 0 ? (pick >> 2) % 0x20000 : numbers[pick % numbers.length];
  if (typeof cur === 'boolean') return !cur;
  if (typeof cur === 'string') {
    const pool = [...strings(board), ...sizeStrings];
    return pool[pick % pool.length];
  }
  if (Array.isArray(cur)) {
    const list = cur as unknown[];
    return list.length > 0 ? [...list, structuredClone(list[pick % list.length])] : list;
  }
  return cur;
}

/** A copy of a list entry gets a fresh name (names must be unique, and the point is to get past that). */
function renamed(entry: unknown, n: number): unknown {
  const copy = structuredClone(entry);
  if (copy !== null && typeof copy === 'object' && !Array.isArray(copy) && typeof (copy as { name?: unknown }).name === 'string') {
    (copy as { name: string }).name = `${(copy as { name: string }).name}_${n}`;
  }
  return copy;
}

export function applyMutation(board: Record<string, unknown>, m: Mutation): void {
  const all = paths(board);
  if (m.op === 'property') {
    const devices = Array.isArray(board.devices) ? (board.devices as unknown[]) : [];
    const d = devices[m.device % Math.max(1, devices.length)];
    if (d === null || typeof d !== 'object' || Array.isArray(d)) return;
    const dev = d as Record<string, unknown>;
    const props = dev.properties !== null && typeof dev.properties === 'object' ? (dev.properties as Record<string, unknown>) : {};
    props[m.key] = structuredClone(m.value);
    dev.properties = props;
    return;
  }
  if (all.length === 0) return;
  if (m.op === 'copy') {
    const from = all[m.from % all.length]!;
    const to = all[m.to % all.length]!;
    const parent = parentOf(board, to);
    if (parent !== undefined) parent[to[to.length - 1]!] = structuredClone(get(board, from));
    return;
  }
  const p = all[m.at % all.length]!;
  const parent = parentOf(board, p);
  if (parent === undefined) return;
  const key = p[p.length - 1]!;
  if (m.op === 'set') parent[key] = structuredClone(m.value);
  else if (m.op === 'retype') parent[key] = sameType(parent[key], m.pick, board);
  else if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (Array.isArray(parent)) {
    for (let i = 1; i <= m.times; i++) parent.push(renamed(parent[key as number], i));
  }
}

/** A seed board and one to four mutations applied to a copy of it. */
export function mutatedBoard(seeds: readonly SeedBoard[]): fc.Arbitrary<MutatedBoard> {
  return fc.record({ seed: fc.nat(), mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }) }).map(({ seed, mutations }) => {
    const s = seeds[seed % seeds.length]!;
    const board = structuredClone(s.raw);
    for (const m of mutations) applyMutation(board, m);
    return { seed: s.name, mutations, board };
  });
}
