import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boardJsonSchema } from './json-schema';

describe('shipped JSON Schema', () => {
  it('is up to date with the zod schema (regenerate: pnpm --filter @dmasim/machine gen-schema)', () => {
    const shipped = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../board.schema.json'), 'utf8')) as unknown;
    expect(shipped).toEqual(boardJsonSchema());
  });

  it('describes sizes as numbers or unit strings and forbids unknown keys', () => {
    const s = boardJsonSchema() as { properties: Record<string, { items?: { properties?: Record<string, unknown>; additionalProperties?: unknown } }> };
    const mem = s.properties.memory!.items!;
    expect(mem.additionalProperties).toBe(false);
    expect(JSON.stringify(mem.properties!.size)).toMatch(/"number".*"string"|"string".*"number"/);
  });
});
