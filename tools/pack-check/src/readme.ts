/**
 * A package README's standalone example, as the packed-install check runs it: the first ```ts
 * block followed by a line saying "Output" and a plain ``` block of exactly what it prints (the
 * convention of packages/core's README).
 */
export interface ReadmeExample {
  readonly code: string;
  readonly output: string;
}

export function readmeExample(markdown: string): ReadmeExample | undefined {
  const blocks = [...markdown.matchAll(/^```([\w-]*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], body: m[2] ?? '', start: m.index, end: m.index + m[0].length }));
  for (let i = 0; i + 1 < blocks.length; i++) {
    const code = blocks[i]!;
    const out = blocks[i + 1]!;
    const between = markdown.slice(code.end, out.start);
    if ((code.lang === 'ts' || code.lang === 'js') && out.lang === '' && /\boutput\b/i.test(between)) return { code: code.body, output: out.body };
  }
  return undefined;
}
