import { DtError } from './errors';
import { ofFindNodeByPhandle, ofPropertyCells, ofPropertyPresent, ofPropertyReadU32 } from './props';
import type { DtNode, DtTree } from './tree';

/** One interrupt of a device: its controller and the specifier cells (struct of_phandle_args). */
export interface OfIrq {
  readonly controller: DtNode;
  readonly args: readonly number[];
}

/**
 * of_irq_find_parent: the node's `interrupt-parent`, else its tree parent's, up to a node that is an
 * interrupt controller (has `#interrupt-cells`). A chain of interrupt-parent references that comes
 * back to itself is an error.
 */
export function ofIrqFindParent(tree: DtTree, node: DtNode): DtNode | null {
  const seen = new Set<DtNode>();
  let cur: DtNode | null = node;
  let first = true;
  while (cur !== null) {
    if (seen.has(cur)) throw new DtError(tree.file, node.path, `interrupt-parent references loop through ${cur.path}`);
    seen.add(cur);
    if (!first && ofPropertyPresent(cur, '#interrupt-cells')) return cur;
    first = false;
    const ph = ofPropertyReadU32(tree, cur, 'interrupt-parent');
    cur = ph !== undefined ? ofFindNodeByPhandle(tree, cur, 'interrupt-parent', ph) : cur.parent;
    if (cur !== null && ph !== undefined && ofPropertyPresent(cur, '#interrupt-cells')) return cur;
  }
  return null;
}

/** Every interrupt of the node: `interrupts-extended`, else `interrupts` with its parent's cell count. */
export function ofIrqs(tree: DtTree, node: DtNode): OfIrq[] {
  const ext = ofPropertyCells(tree, node, 'interrupts-extended');
  if (ext !== undefined) {
    const out: OfIrq[] = [];
    for (let i = 0; i < ext.length; ) {
      const controller = ofFindNodeByPhandle(tree, node, 'interrupts-extended', ext[i]!);
      const n = interruptCells(tree, node, controller);
      if (i + 1 + n > ext.length) throw new DtError(tree.file, node.path, `interrupts-extended ends inside a specifier of ${controller.path} (#interrupt-cells ${n})`);
      out.push({ controller, args: ext.slice(i + 1, i + 1 + n) });
      i += 1 + n;
    }
    return out;
  }
  const cells = ofPropertyCells(tree, node, 'interrupts');
  if (cells === undefined || cells.length === 0) return [];
  const controller = ofIrqFindParent(tree, node);
  if (controller === null) throw new DtError(tree.file, node.path, 'interrupts given but no interrupt-parent or ancestor is an interrupt controller');
  const n = interruptCells(tree, node, controller);
  if (cells.length % n !== 0) throw new DtError(tree.file, node.path, `interrupts has ${cells.length} cells, not a multiple of #interrupt-cells ${n} of ${controller.path}`);
  const out: OfIrq[] = [];
  for (let i = 0; i < cells.length; i += n) out.push({ controller, args: cells.slice(i, i + n) });
  return out;
}

function interruptCells(tree: DtTree, node: DtNode, controller: DtNode): number {
  const n = ofPropertyReadU32(tree, controller, '#interrupt-cells');
  if (n === undefined || n === 0) throw new DtError(tree.file, node.path, `interrupt controller ${controller.path} has no usable #interrupt-cells`);
  return n;
}

/**
 * The interrupt number as dmasim boards give it: the GIC's SPI/PPI number (second of three cells, as
 * written in the tree), or the first cell of a one- or two-cell controller.
 */
export function irqNumber(irq: OfIrq): number {
  return irq.args.length >= 3 ? irq.args[1]! : irq.args[0]!;
}
