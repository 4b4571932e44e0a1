import type { Origin } from './origin';

/**
 * `extends` layering: the extending file's values win. Objects merge key by key; lists of named
 * objects (buses, iommus, devices) merge item by item by `name`, new names appended; other lists are
 * replaced whole.
 */
export function mergeBoards(base: unknown, over: unknown): unknown {
  return mergeTracked({ value: base }, { value: over }).value;
}

/** A value and, when known, where each part of it was written. */
export interface Tracked {
  readonly value: unknown;
  readonly origin?: Origin | undefined;
}

/** mergeBoards that also merges the origins, so each merged value keeps the position of its writer. */
export function mergeTracked(base: Tracked, over: Tracked): Tracked {
  const b = base.value;
  const o = over.value;
  if (Array.isArray(b) && Array.isArray(o) && isNamedList(b) && isNamedList(o)) {
    const out: Named[] = b.map((x) => ({ ...x }));
    const origins: (Origin | undefined)[] = b.map((_x, i) => base.origin?.items?.[i]);
    o.forEach((item, j) => {
      const itemOrigin = over.origin?.items?.[j];
      const i = out.findIndex((x) => x.name === item.name);
      if (i >= 0) {
        const m = mergeTracked({ value: out[i], origin: origins[i] }, { value: item, origin: itemOrigin });
        out[i] = m.value as Named;
        origins[i] = m.origin;
      } else {
        out.push(item);
        origins.push(itemOrigin);
      }
    });
    return { value: out, origin: withItems(over.origin ?? base.origin, origins) };
  }
  if (isPlainObject(b) && isPlainObject(o)) {
    const out: Record<string, unknown> = { ...b };
    const keys = new Map(base.origin?.keys ?? []);
    for (const [k, v] of Object.entries(o)) {
      // a layer without positions inside (TS, in-memory) still owns what it writes
      const overEntry = over.origin?.keys?.get(k) ?? (over.origin === undefined ? undefined : { key: over.origin.at, value: { at: over.origin.at, path: [...over.origin.path, k] } });
      if (k in b) {
        const m = mergeTracked({ value: b[k], origin: base.origin?.keys?.get(k)?.value }, { value: v, origin: overEntry?.value });
        out[k] = m.value;
        if (overEntry !== undefined && m.origin !== undefined) keys.set(k, { key: overEntry.key, value: m.origin });
      } else {
        out[k] = v;
        if (overEntry !== undefined) keys.set(k, overEntry);
      }
    }
    const owner = over.origin ?? base.origin;
    return { value: out, origin: owner === undefined ? undefined : { at: owner.at, path: owner.path, keys } };
  }
  return over;
}

function withItems(origin: Origin | undefined, items: readonly (Origin | undefined)[]): Origin | undefined {
  if (origin === undefined) return undefined;
  return { at: origin.at, path: origin.path, items: items.map((x, i) => x ?? { at: origin.at, path: [...origin.path, i] }) };
}

type Named = Record<string, unknown> & { name: string };

function isNamedList(list: unknown[]): list is Named[] {
  return list.length > 0 && list.every((x) => isPlainObject(x) && typeof x.name === 'string');
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
