import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { builtinBoardJsonSchema } from '../src/machine/board-schema';

const out = resolve(import.meta.dirname, '../board.schema.json');
writeFileSync(out, `${JSON.stringify(builtinBoardJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
