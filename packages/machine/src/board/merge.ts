/**
 * `extends` layering: the extending file's values win. Objects merge key by key; lists of named
 * objects (buses, iommus, devices) merge item by item by `name`, new names appended; other lists are
 * replaced whole.
 */
export function mergeBoards(base: unknown, over: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(over)) {
    if (isNamedList(base) && isNamedList(over)) {
      const out = base.map((x) => ({ ...x }));
      for (const item of over) {
        const i = out.findIndex((x) => x.name === item.name);
        if (i >= 0) out[i] = mergeBoards(out[i], item) as Named;
        else out.push(item);
      }
      return out;
    }
    return over;
  }
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeBoards(base[k], v) : v;
    return out;
  }
  return over;
}

type Named = Record<string, unknown> & { name: string };

function isNamedList(list: unknown[]): list is Named[] {
  return list.length > 0 && list.every((x) => isPlainObject(x) && typeof x.name === 'string');
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
