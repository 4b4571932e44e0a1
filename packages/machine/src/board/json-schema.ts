import { z } from 'zod';
import { BoardSchema } from './schema';
import { builtinModels, type ModelCatalogue } from './models';

/** Stable identifier of the board schema; bump the version when a board valid before becomes invalid. */
export const BOARD_SCHEMA_ID = 'urn:dmasim:board-schema:1';

type Json = Record<string, unknown>;

/**
 * The JSON Schema (draft-07, the draft yaml-language-server supports best) of board files in their
 * input form, for editors to complete and check them. Two variants live in one schema:
 * - a board with `extends` is a layer: only the `name` of named list items is required, since the
 *   boards it extends provide the rest (the `if/else` on `extends`);
 * - a board with no `plugins` may only name the models of `models` (enums with descriptions);
 *   with `plugins`, any compatible or PCI id is allowed, since the plugin modules bring their own.
 */
export function boardJsonSchema(models: ModelCatalogue): Json {
  const full = structuredClone(boardInputJsonSchema());
  addIommuModelKeys(full, models);
  const complete: Json = {};
  const layer = relaxRequired(full, complete, false);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: BOARD_SCHEMA_ID,
    title: 'dmasim board',
    description: 'A dmasim board: memory, buses, IOMMUs, devices, kernel behaviour and workloads.',
    ...layer,
    allOf: [
      { if: { required: ['extends'] }, then: {}, else: complete },
      { if: { required: ['plugins'] }, then: {}, else: modelEnums(models, full) },
    ],
  };
}

let inputSchema: Json | undefined;

/** The JSON Schema of a complete board's input form, straight from the zod schema (computed once). */
export function boardInputJsonSchema(): Json {
  inputSchema ??= generateInputSchema();
  return inputSchema;
}

let keysSchema: Json | undefined;

/** The input schema with the keys of the built-in IOMMU models, for looking keys and types up by path. */
export function builtinInputJsonSchema(): Json {
  if (keysSchema === undefined) {
    keysSchema = structuredClone(boardInputJsonSchema());
    addIommuModelKeys(keysSchema, builtinModels());
  }
  return keysSchema;
}

function generateInputSchema(): Json {
  const full = z.toJSONSchema(BoardSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-7',
    // zod drops the examples of anything holding a transform (a size inside makes a whole object so),
    // because output examples need not be valid input; ours are written in the input form.
    override: ({ zodSchema, jsonSchema }) => {
      const examples = z.globalRegistry.get(zodSchema)?.examples;
      if (examples !== undefined && jsonSchema.examples === undefined) jsonSchema.examples = examples as unknown[];
    },
  }) as Json;
  delete full.$schema;
  return full;
}

/**
 * Copies `schema` without the `required` lists an extending layer may leave out, and puts those lists
 * into `skeleton` at the same place, so `skeleton` alone says what a complete board must have.
 * Objects reached through `properties` merge key by key, so nothing in them is required of a layer;
 * items of a list of named objects merge by `name`, which stays required; any other list is replaced
 * whole by a layer, so its items keep every requirement.
 */
function relaxRequired(schema: Json, skeleton: Json, namedItem: boolean): Json {
  const out: Json = { ...schema };
  const required = schema.required as string[] | undefined;
  skeleton.type = 'object';
  if (required !== undefined) {
    skeleton.required = required;
    if (namedItem) out.required = ['name'];
    else delete out.required;
  }
  const props = schema.properties as Record<string, Json> | undefined;
  if (props === undefined) return out;
  const outProps: Record<string, Json> = {};
  const skelProps: Record<string, Json> = {};
  for (const [key, sub] of Object.entries(props)) {
    const items = sub.items as Json | undefined;
    if (sub.type === 'object') {
      const s: Json = {};
      outProps[key] = relaxRequired(sub, s, false);
      if (Object.keys(s).length > 1) skelProps[key] = s;
    } else if (sub.type === 'array' && items !== undefined && (items.required as string[] | undefined)?.includes('name') === true) {
      const s: Json = {};
      outProps[key] = { ...sub, items: relaxRequired(items, s, true) };
      if (Object.keys(s).length > 1) skelProps[key] = { type: 'array', items: s };
    } else {
      outProps[key] = sub;
    }
  }
  out.properties = outProps;
  if (Object.keys(skelProps).length > 0) skeleton.properties = skelProps;
  return out;
}

/** The built-in models a board without plugins may name, as enums an editor completes and describes. */
function modelEnums(models: ModelCatalogue, full: Json): Json {
  const described = (keys: readonly string[]): Json => ({
    enum: keys,
    enumDescriptions: keys.map((k) => models.descriptions?.get(k) ?? k),
  });
  const compatibles = [...models.deviceCompatibles.keys()].sort();
  const iommus = [...models.iommuCompatibles.keys()].sort();
  const pciIds = [...models.pciIds.keys()].sort();
  const pair = (id: string): Json => {
    const [vendor, device] = id.split(':').map((h) => parseInt(h, 16));
    return { type: 'object', properties: { vendor: { const: vendor }, device: { const: device } }, description: models.descriptions?.get(id) ?? id };
  };
  const distinct = (part: 0 | 1): Json => {
    const values = [...new Set(pciIds.map((id) => id.split(':')[part]!))].sort();
    return {
      enum: values.map((h) => parseInt(h, 16)),
      enumDescriptions: values.map((h) => pciIds.filter((id) => id.split(':')[part] === h).map((id) => `${id} ${models.descriptions?.get(id) ?? ''}`.trim()).join('; ')),
    };
  };
  return {
    type: 'object',
    properties: {
      // without plugins an entry may hold only the common keys and those of the built-in models
      iommus: { type: 'array', items: { type: 'object', properties: { compatible: described(iommus) }, propertyNames: { enum: iommuKeyNames(full) } } },
      devices: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            compatible: described(compatibles),
            pci: { type: 'object', properties: { vendor: distinct(0), device: distinct(1) }, anyOf: pciIds.map(pair) },
          },
        },
      },
    },
  };
}

/** The `iommus[]` item schema of a generated board schema. */
function iommuItem(full: Json): Json {
  return ((full.properties as Record<string, Json>).iommus!.items as Json);
}

/**
 * The keys IOMMU models add to an `iommus[]` entry (the zod schema lets them through for the plugin
 * to check), documented as their plugins describe them so editors complete them. Two models naming
 * the same key share its first description.
 */
function addIommuModelKeys(full: Json, models: ModelCatalogue): void {
  const props = iommuItem(full).properties as Record<string, Json>;
  for (const model of new Set(models.iommuCompatibles.values())) {
    for (const k of model.boardKeys) props[k.key] ??= { ...k.schema, description: k.description, examples: [k.example] };
  }
}

function iommuKeyNames(full: Json): string[] {
  return Object.keys(iommuItem(full).properties as Json);
}
