import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { DtError } from './errors';
import { parseFdt } from './fdt';
import type { DtTree } from './tree';

const INSTALL_HINT = 'a .dts is compiled with dtc, which is not installed: apt-get install device-tree-compiler (Debian, Ubuntu), dnf install dtc (Fedora), brew install dtc (macOS)';

/** Whether the device tree compiler can be run. */
export function dtcAvailable(): boolean {
  const r = spawnSync('dtc', ['--version'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}

/** Compiles DTS source to a blob with dtc (scripts/dtc). The file names the source in errors. */
export function compileDts(source: string, file = '<dts>'): Uint8Array {
  const r = spawnSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', '-', '-'], { input: source, maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new DtError(file, 'dtc', code === 'ENOENT' ? INSTALL_HINT : `cannot run dtc: ${r.error.message}`);
  }
  if (r.status !== 0) {
    const msg = r.stderr.toString('utf8').trim().split('\n').map((l) => l.replace(/^Error: /, '').replace(/<stdin>/g, file)).join('; ');
    throw new DtError(file, 'dtc', `does not compile: ${msg || `dtc exited with status ${r.status}`}`);
  }
  return new Uint8Array(r.stdout);
}

/** Reads a `.dtb`, or a `.dts` through dtc, into a tree. */
export function readDevicetreeFile(path: string): DtTree {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DtError(path, 'file', `cannot read: ${(e as Error).message}`);
  }
  if (extname(path) === '.dts') return parseFdt(compileDts(bytes.toString('utf8'), path), path);
  return parseFdt(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), path);
}
