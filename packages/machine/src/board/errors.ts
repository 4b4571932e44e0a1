/** One problem in a board file: where it is, what was found, what was expected. */
export interface BoardIssue {
  readonly file: string;
  /** Path inside the file, e.g. `devices[2].iommus[0].iommu`. */
  readonly path: string;
  readonly message: string;
  readonly found?: string;
}

/** Host-level error for a board that cannot be used. Names the file, the path in it and the reason. */
export class BoardError extends Error {
  constructor(readonly issues: readonly BoardIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'BoardError';
  }
}

export function formatIssue(i: BoardIssue): string {
  const where = i.path === '' ? i.file : `${i.file}: ${i.path}`;
  return `${where}: ${i.message}${i.found === undefined ? '' : ` (found ${i.found})`}`;
}

/** `['devices', 2, 'bus']` → `devices[2].bus`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** A short rendering of the offending value for messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).join(', ') || '(none)'}`;
  return typeof v;
}
