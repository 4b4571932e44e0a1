/**
 * `--events-filter 'iommu.*,swiotlb.*'`: which trace categories to keep, as QEMU's `-trace`
 * patterns: comma-separated globs (`*` any run of characters, `?` one), a leading `-` removes what
 * matched before. No filter keeps everything.
 */
export type CategoryFilter = (category: string) => boolean;

function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Parses a filter; null with the reason for an empty pattern. */
export function parseCategoryFilter(text: string | undefined): CategoryFilter | { error: string } {
  if (text === undefined) return () => true;
  const rules = text.split(',').map((p) => p.trim());
  if (rules.some((r) => r === '' || r === '-')) return { error: `--events-filter: empty pattern in ${JSON.stringify(text)} (expected comma-separated globs such as 'iommu.*,swiotlb.*')` };
  const compiled = rules.map((r) => ({ keep: !r.startsWith('-'), re: globRegExp(r.startsWith('-') ? r.slice(1) : r) }));
  // only exclusions: start from everything
  const base = compiled.every((c) => !c.keep);
  return (category) => {
    let keep = base;
    for (const c of compiled) if (c.re.test(category)) keep = c.keep;
    return keep;
  };
}
