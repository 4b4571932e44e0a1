/** Escapes text for HTML element content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ccc}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;margin-bottom:14px}
.ok{color:#1a7f37}.degraded{color:#b35900}.oops{color:#c00}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee;vertical-align:top}
code{font:12px ui-monospace,monospace;background:#f3f3f3;padding:1px 3px}
svg text{font:11px system-ui,sans-serif}.legend span{margin-right:14px}
.kind{font-weight:600;white-space:nowrap}.full{color:#c00;font-weight:600}`;

/** One self-contained page: inline CSS and SVG, no script, nothing fetched. */
export function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>\n${body}\n</body></html>\n`;
}
