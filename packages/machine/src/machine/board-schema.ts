import { boardJsonSchema } from '../board/json-schema';
import { PluginRegistry } from './plugins';

/** The board JSON Schema for the models the built-in plugins provide (what `board.schema.json` holds). */
export function builtinBoardJsonSchema(): Record<string, unknown> {
  return boardJsonSchema(new PluginRegistry().catalogue());
}
