import { stringify } from 'yaml';
import type { InfoReport } from './types';

/**
 * The human form of `dmasim info`: the resolved board as YAML, then an `info mtree`-style address
 * map, the DMA windows and limits, the IRQ map and the IOMMU tree (instance → group → domain →
 * devices with stream ids).
 */
export function renderInfo(r: InfoReport): string {
  const out: string[] = [];
  out.push(`board ${r.board}  (${r.chain.join(' <- ')})${r.overrides.length > 0 ? `  --set ${r.overrides.join(' --set ')}` : ''}`);
  out.push('', 'resolved board:');
  out.push(...stringify(r.resolved, { lineWidth: 0 }).trimEnd().split('\n').map((l) => `  ${l}`));
  out.push('', 'address-space: cpu physical');
  const nameWidth = Math.max(0, ...r.addressMap.map((a) => a.kind.length));
  for (const a of r.addressMap) out.push(`  ${a.start.padStart(18)}-${a.end.padEnd(18)} (${a.kind.padEnd(nameWidth)}) ${a.name}`);
  out.push('', 'dma-ranges per bus:');
  for (const b of r.dmaWindows) {
    if (b.from === null) out.push(`  ${b.bus}: none (devices reach all memory their mask covers)`);
    else out.push(`  ${b.bus}${b.from !== b.bus ? ` (from ${b.from})` : ''}: ${b.windows.map((w) => `bus ${w.bus} -> cpu ${w.cpu} size ${w.size}`).join('; ')}`);
  }
  out.push('', 'dma limit per device:');
  const dw = Math.max(0, ...r.dmaLimits.map((d) => d.device.length));
  for (const d of r.dmaLimits) out.push(`  ${d.device.padEnd(dw)}  ${d.dmaLimit.padEnd(18)}  bus ${d.bus}${d.coherent ? '  coherent' : ''}`);
  out.push('', 'irqs:');
  for (const i of r.irqs) out.push(`  ${String(i.irq).padStart(4)}  ${i.owner} (${i.kind})`);
  out.push('', 'iommu topology:');
  if (r.iommus.length === 0) out.push('  none');
  for (const i of r.iommus) {
    const facts = Object.entries(i.facts).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    out.push(`  ${i.name} (${i.compatible})${facts.length > 0 ? `  ${facts.join(' ')}` : ''}`);
    for (const g of i.groups) {
      const dom = g.domain === null ? 'no domain' : `domain ${g.domain.id} (${g.domain.type})${g.domain.contextBank !== null ? ` context bank ${g.domain.contextBank}` : ''}`;
      out.push(`    group ${g.group} -> ${dom}`);
      for (const d of g.devices) out.push(`      ${d.device}  ids [${d.streamIds.join(', ')}]  ${d.route}`);
    }
    for (const d of i.ungrouped) out.push(`    (no group) ${d.device}  ids [${d.streamIds.join(', ')}]  ${d.route}`);
  }
  return `${out.join('\n')}\n`;
}
