// Packing @dmasim/machine ships the repository's example boards and scenarios inside the package
// (`examples/`, which load.ts looks for first), so board names work after `npm install`.
// `copy` runs before packing, `remove` after: in the workspace the code reads ../../examples itself.
import { cpSync, rmSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../../../examples', import.meta.url));
const to = fileURLToPath(new URL('../examples', import.meta.url));
rmSync(to, { recursive: true, force: true });
if (process.argv[2] === 'copy') cpSync(from, to, { recursive: true, filter: (src) => !src.endsWith('.test.ts') });
