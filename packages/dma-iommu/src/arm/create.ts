import { EINVAL, ENOMEM, ERANGE, PAGE_SHIFT, PAGE_SIZE, dmaBitMask, ilog2, isPowerOfTwo, pow2 } from '@dmasim/core';
import type { BusNotifierHost } from '@dmasim/iommu-core';
import type { ArmIommuEnv } from './env';
import { DmaIommuMapping, bitsInWholeLongs, seedGrowth, simpleGrowth } from './mapping';
import { armIommuOpsFor } from './ops-registry';

/** Bits in one page of bitmap: the largest bitmap the reviewer's form allocates (32768). */
export const ARM_BITS_PER_PAGE_BITMAP = PAGE_SIZE * 8;

/** The posted patch's arguments beyond base and size. */
export interface ArmSeedMappingOptions {
  readonly variant?: 'seed';
  /** Bytes each added range covers; 0 (default) = the mapping never grows. */
  readonly growSize?: number;
  /** Growth stops before size + growSize reaches this (default: the initial size). */
  readonly maxSize?: number;
  /** One bitmap bit covers 2^order pages (default 0). */
  readonly order?: number;
}

/** The reviewer's form: `size` is the maximum mapping size; nothing else but the accuracy. */
export interface ArmSimpleMappingOptions {
  readonly variant: 'simple';
  /** Bytes one bitmap bit covers, a power of two >= PAGE_SIZE (default PAGE_SIZE). */
  readonly accuracy?: number;
}

export type ArmMappingOptions = ArmSeedMappingOptions | ArmSimpleMappingOptions;

/**
 * arm_iommu_create_mapping(bus, base, size, ...): a mapping of IOVA space from `base` with a fresh
 * UNMANAGED domain from the bus's IOMMU. Returns the mapping or a negative errno (ERR_PTR).
 *
 * - posted patch (default, `variant: 'seed'`): `size` is the initial range; more ranges of
 *   `growSize` are added while `size + growSize < maxSize`; one bit covers 2^order pages.
 * - reviewer's form (`variant: 'simple'`): `size` is the maximum mapping size, `accuracy` the bytes
 *   per bit; the first bitmap is at most one page of bits, and the mapping grows by that much.
 */
export function armIommuCreateMapping(
  env: ArmIommuEnv,
  bus: BusNotifierHost | string,
  base: number,
  size: number,
  options: ArmMappingOptions = {},
): DmaIommuMapping | number {
  const layout = options.variant === 'simple' ? simpleLayout(size, options) : seedLayout(size, options);
  if (typeof layout === 'number') return layout;
  const domain = env.iommu.iommuDomainAlloc(bus);
  if (domain === null) return -ENOMEM;
  const mapping = new DmaIommuMapping({ domain, base, ...layout, freeDomain: (d) => env.iommu.iommuDomainFree(d) });
  armIommuOpsFor(mapping, env);
  return mapping;
}

/**
 * The reviewer's two-argument form, spelled out: arm_iommu_create_mapping(bus, base,
 * max_mapping_size, allocation_accuracy).
 */
export function armIommuCreateMappingSimple(
  env: ArmIommuEnv,
  bus: BusNotifierHost | string,
  base: number,
  maxMappingSize: number,
  allocationAccuracy: number = PAGE_SIZE,
): DmaIommuMapping | number {
  return armIommuCreateMapping(env, bus, base, maxMappingSize, { variant: 'simple', accuracy: allocationAccuracy });
}

/** arm_iommu_release_mapping(): drop the creator's reference (NULL is ignored). */
export function armIommuReleaseMapping(mapping: DmaIommuMapping | null): void {
  if (mapping !== null) mapping.put();
}

type Layout = Pick<ConstructorParameters<typeof DmaIommuMapping>[0], 'size' | 'bits' | 'order' | 'growSize' | 'maxSize' | 'growth'>;

function seedLayout(size: number, o: ArmSeedMappingOptions): Layout | number {
  const order = o.order ?? 0;
  const growSize = o.growSize ?? 0;
  const maxSize = o.maxSize ?? size;
  if (!Number.isInteger(order) || order < 0) return -EINVAL;
  // "currently only 32-bit DMA address space is supported" (also refuses NaN and negative sizes)
  if (!(size > 0 && size <= dmaBitMask(32) + 1)) return -ERANGE;
  // count = size >> (PAGE_SHIFT + order); a mapping smaller than one bit is refused
  const count = Math.floor(size / pow2(PAGE_SHIFT + order));
  if (count === 0) return -EINVAL;
  return { size, bits: bitsInWholeLongs(count), order, growSize, maxSize, growth: seedGrowth(growSize, maxSize) };
}

/**
 * Sizing of the reviewer's form as the kernel later merged it: bits for the whole maximum size in
 * whole longs; when that is more than one page of bits, one page per bitmap and
 * `floor(total / page)` bitmaps (a remainder below one page is not usable).
 */
function simpleLayout(maxSize: number, o: ArmSimpleMappingOptions): Layout | number {
  const accuracy = o.accuracy ?? PAGE_SIZE;
  if (!isPowerOfTwo(accuracy) || accuracy < PAGE_SIZE) return -EINVAL;
  // "currently only 32-bit DMA address space is supported"
  if (maxSize > dmaBitMask(32) + 1) return -ERANGE;
  const order = ilog2(accuracy) - PAGE_SHIFT;
  const totalBits = bitsInWholeLongs(Math.floor(maxSize / accuracy));
  if (totalBits === 0) return -EINVAL;
  const bits = Math.min(totalBits, ARM_BITS_PER_PAGE_BITMAP);
  const extensions = Math.max(1, Math.floor(totalBits / bits));
  const step = bits * accuracy;
  return { size: step, bits, order, growSize: step, maxSize: step * extensions, growth: simpleGrowth(bits, extensions) };
}
