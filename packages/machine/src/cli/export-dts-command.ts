import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { serializeFdt, writeDts } from '@dmasim/devicetree';
import { boardTree } from '../board/devicetree';
import { loadBoardWithPlugins } from '../machine/run';
import type { CliIo } from './program';

/**
 * `dmasim export-dts <board>`: the board as device tree source the kernel would boot (dtc compiles
 * it), printed or written to `--output`; `--dtb FILE` also writes the compiled blob, no dtc needed.
 * Importing either back gives the same machine.
 */
export async function runExportDtsCommand(io: CliIo, ref: string, opts: { output?: string; dtb?: string }): Promise<void> {
  const { loaded, registry } = await loadBoardWithPlugins(ref);
  const tree = boardTree(loaded.board, registry.catalogue());
  const text = writeDts(tree, [`${loaded.board.name}: exported by dmasim export-dts from ${basename(loaded.file)}`, 'dmasim,* properties carry what a real tree leaves to ID registers and the command line']);
  if (opts.dtb !== undefined) writeFileSync(opts.dtb, serializeFdt(tree));
  if (opts.output !== undefined) writeFileSync(opts.output, text);
  else if (opts.dtb === undefined) io.out(text);
}
