/**
 * The shapes the firmware readers expect of the properties they know. The kernel reads a property
 * through a typed helper (of_property_read_u32, of_property_read_string_array,
 * of_parse_phandle_with_args) that fails with -EINVAL when the data has the wrong length or form;
 * a FwNode checks the same when a property is set, so a malformed value never reaches a reader as
 * if it were well formed.
 */

const isU32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const isCell = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isCells = (v: unknown): boolean => Array.isArray(v) && v.every(isCell);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const listOf = (item: (v: unknown) => boolean) => (v: unknown): boolean => Array.isArray(v) && v.every(item);

const PROP_SHAPES: Readonly<Record<string, (v: unknown) => boolean>> = {
  compatible: listOf((s) => typeof s === 'string'),
  reg: isCells,
  interrupts: isCells,
  iommus: listOf((e) => isRecord(e) && typeof e.node === 'string' && isCells(e.args)),
  'mmu-masters': listOf((e) => isRecord(e) && typeof e.node === 'string' && isCells(e.streamIds)),
  'dma-ranges': listOf((e) => isRecord(e) && isCell(e.bus) && isCell(e.cpu) && isCell(e.size)),
  'dma-coherent': (v) => typeof v === 'boolean',
  'iommu-map': listOf((e) => isRecord(e) && typeof e.iommu === 'string' && isU32(e.ridBase) && isU32(e.iommuBase) && isU32(e.length)),
  'iommu-map-mask': isU32,
  '#iommu-cells': isU32,
  '#global-interrupts': isU32,
  'stream-match-mask': isU32,
  'arm,primecell-periphid': isU32,
  status: (v) => typeof v === 'string',
};

/** Whether `value` has the shape readers of `key` expect (any value for a property no reader knows). */
export function propertyShapeOk(key: string, value: unknown): boolean {
  const check = PROP_SHAPES[key];
  return check === undefined || check(value);
}

/** The names of the properties with a checked shape. */
export const KNOWN_PROPERTIES: readonly string[] = Object.keys(PROP_SHAPES);
