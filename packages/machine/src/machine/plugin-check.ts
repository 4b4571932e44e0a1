const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');

/**
 * What is wrong with a device model a plugin module exports, or null when it has the shape of the
 * DeviceModel contract (the registry and the machine call into it without further checks).
 */
export function deviceModelProblem(m: unknown): string | null {
  if (typeof m !== 'object' || m === null) return `expected a DeviceModel object, found ${m === null ? 'null' : typeof m}`;
  const o = m as Record<string, unknown>;
  if (typeof o.name !== 'string') return 'expected "name" to be a string';
  if (o.compatibles !== undefined && !isStrings(o.compatibles)) return `model "${o.name}": expected "compatibles" to be a list of strings`;
  if (o.pciIds !== undefined && (!isStrings(o.pciIds) || !(o.pciIds as string[]).every((id) => /^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/.test(id)))) {
    return `model "${o.name}": expected "pciIds" to be a list of "vvvv:dddd" ids`;
  }
  if (o.compatibles === undefined && o.pciIds === undefined) return `model "${o.name}": expected "compatibles" or "pciIds"`;
  if (!isStrings(o.workloads)) return `model "${o.name}": expected "workloads" to be a list of workload kinds`;
  if (o.mmioSize !== undefined && !(typeof o.mmioSize === 'number' && Number.isSafeInteger(o.mmioSize) && o.mmioSize > 0)) return `model "${o.name}": expected "mmioSize" to be a positive byte count`;
  for (const fn of ['createHardware', 'drivers'] as const) if (typeof o[fn] !== 'function') return `model "${o.name}": expected "${fn}" to be a function`;
  if (o.runWorkload !== undefined && typeof o.runWorkload !== 'function') return `model "${o.name}": expected "runWorkload" to be a function`;
  return null;
}
