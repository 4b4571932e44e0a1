import { z } from 'zod';
import { BoardSchema } from './schema';

/** The JSON Schema of board files (their input form), for editors to complete and check them. */
export function boardJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(BoardSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://dmasim.invalid/board.schema.json', title: 'dmasim board' };
}
