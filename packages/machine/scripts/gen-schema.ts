import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { boardJsonSchema } from '../src/board/json-schema';

const out = resolve(import.meta.dirname, '../board.schema.json');
writeFileSync(out, `${JSON.stringify(boardJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
