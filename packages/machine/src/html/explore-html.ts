import type { ExploreResult } from '../explore/explore';
import { esc, page } from './page';
import { problemsSection } from './run-html';

/**
 * The `explore --html` page: each outcome with its count, its explanation, its problems and the
 * example order by decision, linking the outcome's reproducing trace when `--traces` wrote one.
 */
export function renderExploreHtml(r: ExploreResult, traceFiles: readonly string[] | null): string {
  const head = `<h1>dmasim explore: ${esc(r.board)}</h1><p>${esc(r.mode)} exploration: ${r.orders} orders, ${r.runs} runs (${r.pruned} stopped at a state already explored)${r.complete ? '' : ', <b>incomplete</b> (run cap reached)'}; ${r.outcomes.length} outcome${r.outcomes.length === 1 ? '' : 's'}</p>`;
  const outcomes = r.outcomes.map((o, i) => {
    const pct = r.orders === 0 ? 0 : (100 * o.count) / r.orders;
    const bar = `<svg width="300" height="12" role="img" aria-label="share of orders"><rect width="300" height="12" fill="#eee"/><rect width="${(3 * pct).toFixed(1)}" height="12" fill="#5b8def"/></svg>`;
    const order = o.example.decisions.length === 0 ? '<p>(no choices)</p>' : `<table>${o.example.decisions.map((d) => `<tr><td><code>${esc(d.decision)}</code></td><td>${esc(d.order.join(', '))}</td></tr>`).join('')}</table>`;
    const trace = traceFiles?.[i];
    return `<section class="outcome" id="outcome-${i + 1}"><h2>#${i + 1} <span class="${esc(o.outcome)}">${esc(o.outcome.toUpperCase())}</span>: ${o.count} of ${r.orders} orders (${pct.toFixed(1)}%) ${bar}</h2>
<p class="explanation">${esc(o.explanation.text)}</p>
${problemsSection(o.problems).replace('<section id="problems">', '<div>').replace(/<\/section>$/, '</div>')}
<h3>example order${r.mode === 'sample' ? ` (seed ${o.example.seed})` : ''}</h3>${order}${trace !== undefined ? `<p>trace: <a href="${esc(trace)}">${esc(trace)}</a> (<code>dmasim replay ${esc(trace)}</code>)</p>` : ''}</section>`;
  });
  return page(`dmasim explore ${r.board}`, [head, ...outcomes].join('\n'));
}
