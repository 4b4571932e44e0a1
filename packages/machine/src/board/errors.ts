/** One problem in a board file: where it is, what was found, what was expected. */
export interface BoardIssue {
  readonly file: string;
  /** Path inside the board, e.g. `devices[2].iommus[0].iommu`. */
  readonly path: string;
  readonly message: string;
  readonly found?: string;
  /** 1-based line and column in `file` of the value (or key) at fault, when the file has positions. */
  readonly line?: number;
  readonly column?: number;
  /** A warning: the board runs as the kernel would, but probably not as meant. */
  readonly warning?: boolean;
}

/** Issues a BoardError's message lists; a board broken in a thousand places shows the first ones. */
const MAX_LISTED_ISSUES = 50;

/** Host-level error for a board that cannot be used. Names the file, the path in it and the reason. */
export class BoardError extends Error {
  /** `warnings`: what else `dmasim validate` shows about the board (not part of the message). */
  constructor(
    readonly issues: readonly BoardIssue[],
    readonly warnings: readonly BoardIssue[] = [],
  ) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES).map(formatIssue);
    if (issues.length > MAX_LISTED_ISSUES) listed.push(`... and ${issues.length - MAX_LISTED_ISSUES} more problems`);
    super(listed.join('\n'));
    this.name = 'BoardError';
  }
}

/** `file:line:column: path: message (found x)`, as compilers print, so editors and terminals link it. */
export function formatIssue(i: BoardIssue): string {
  const file = i.line === undefined ? i.file : `${i.file}:${i.line}:${i.column ?? 1}`;
  const where = i.path === '' ? file : `${file}: ${i.path}`;
  return `${where}: ${i.warning === true ? 'warning: ' : ''}${i.message}${i.found === undefined ? '' : ` (found ${i.found})`}`;
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

/** `devices[2].iommus[0].iommu` → `['devices', 2, 'iommus', 0, 'iommu']` (the inverse of formatPath). */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
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
