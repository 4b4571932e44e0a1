import { z } from 'zod';
import { parseAddress, parseSize } from '@dmasim/core';

/**
 * The board file schema (YAML, JSON, or a typed TS module of the same shape). Every object is strict:
 * an unknown key is an error. Sizes accept numbers or strings with binary units (`512KiB`), addresses
 * numbers or hex strings. The parsed form holds plain numbers.
 */

const size = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const n = parseSize(v);
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected a size: a byte count or a string such as "512KiB", "64MiB", "4GiB"', input: v });
      return z.NEVER;
    }
    return n;
  })
  .meta({ description: 'bytes, or a string with a unit: 512KiB, 64MiB, 4GiB' });

const address = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const n = parseAddress(v);
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected an address: a number or a hex string such as "0x7e400000"', input: v });
      return z.NEVER;
    }
    return n;
  })
  .meta({ description: 'a number or a hex string such as "0x7e400000"' });

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'expected a name: a letter, then letters, digits, "_", "." or "-"');

export const ProbeOrderSchema = z.union([z.enum(['natural', 'reverse', 'shuffle']), z.array(name).min(1)]);

export const KernelSchema = z
  .object({
    arch: z.enum(['arm', 'arm64', 'generic']).default('generic').meta({ description: 'which arch DMA ops layer wires devices' }),
    profile: z.enum(['linux-4.2', 'linux-6.x']).default('linux-6.x').meta({ description: 'behaviour profile: historical (seed) or fixed behaviour' }),
    defaultDomain: z.enum(['per-group', 'per-iommu']).default('per-group'),
    strict: z.boolean().default(true).meta({ description: 'IOMMU TLB invalidation: strict (true) or lazy flush queue (false)' }),
    dmaDebug: z.boolean().default(true),
    dmaDebugSg: z.boolean().default(false).meta({ description: 'CONFIG_DMA_API_DEBUG_SG: also check sg segments against max segment size and boundary (off by default, as in the kernel)' }),
    swiotlb: z
      .strictObject({
        size: size.default(64 * 1024 * 1024),
        dynamic: z.union([z.literal(false), z.enum(['per-buffer', 'growing'])]).default(false),
        force: z.boolean().default(false),
      })
      .prefault({}),
    armMapping: z
      .strictObject({
        variant: z.enum(['extend', 'simple']).default('extend').meta({ description: 'extend: seed 000 as posted; simple: the reviewer two-argument form' }),
        base: address.default(0x80000000),
        size: size.default(512 * 1024),
        grow: size.default(512 * 1024),
        max: size.default(128 * 1024 * 1024),
        order: z.number().int().min(0).max(10).default(0),
      })
      .prefault({}),
    probe: z
      .strictObject({
        order: ProbeOrderSchema.default('natural'),
        seed: z.number().int().default(1),
      })
      .prefault({}),
    dmaZone: size.optional().meta({ description: 'end of ZONE_DMA (e.g. 1GiB on a Raspberry Pi 4); absent: no ZONE_DMA' }),
  })
  .strict();

export const MemorySchema = z.strictObject({ base: address, size });

export const DmaRangeSchema = z.strictObject({ bus: address, cpu: address, size });

export const IommuMasterSchema = z.strictObject({ device: name, streamIds: z.array(z.number().int().min(0).max(0xffff)).min(1) });

export const IommuSchema = z.strictObject({
  name,
  compatible: z.string(),
  base: address,
  size: size.default(0x10000),
  contextBanks: z.number().int(),
  streamMatchRegisters: z.number().int(),
  irq: z.number().int().min(0).optional(),
  coherentWalk: z.boolean().default(true),
  disableBypass: z.boolean().default(false).meta({ description: 'arm-smmu.disable_bypass: unmatched streams fault instead of bypassing' }),
  masters: z.array(IommuMasterSchema).optional().meta({ description: 'legacy mmu-masters binding, on the IOMMU side' }),
});

export const IommuMapSchema = z.strictObject({
  iommu: name,
  ridBase: z.number().int().min(0).default(0),
  streamBase: z.number().int().min(0).default(0),
  length: z.number().int().min(1).default(0x10000),
  mask: z.number().int().min(0).optional().meta({ description: 'iommu-map-mask applied to the requester id first' }),
});

export const BusSchema = z.strictObject({
  name,
  type: z.enum(['platform', 'amba', 'pci']),
  parent: name.optional(),
  dmaRanges: z.array(DmaRangeSchema).optional(),
  iommuMap: IommuMapSchema.optional(),
});

export const DeviceIommuSchema = z.strictObject({
  iommu: name,
  streamIds: z.array(z.number().int().min(0).max(0xffff)).min(1),
  shared: z.boolean().default(false).meta({ description: 'these stream ids are shared with other masters that also say shared (one IOMMU group, like Juno EHCI/OHCI)' }),
});

export const PciIdSchema = z.strictObject({
  bdf: z.string().regex(/^[0-9a-fA-F]{2}:[0-1][0-9a-fA-F]\.[0-7]$/, 'expected a bus:device.function such as "01:00.0"'),
  vendor: z.number().int().min(0).max(0xffff),
  device: z.number().int().min(0).max(0xffff),
});

export const DeviceSchema = z.strictObject({
  name,
  compatible: z.string().optional(),
  pci: PciIdSchema.optional(),
  bus: name,
  base: address.optional(),
  size: size.optional(),
  irq: z.number().int().min(0).optional(),
  iommus: z.array(DeviceIommuSchema).optional(),
  coherent: z.boolean().optional(),
  dmaMask: z.number().int().min(12).max(64).optional(),
  status: z.enum(['okay', 'disabled']).default('okay'),
  properties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.number())])).optional(),
});

export const WorkloadSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('display-import'),
    producer: name,
    consumer: name,
    buffers: z.array(size).min(1),
    frames: z.number().int().min(1).default(1),
    placement: z.enum(['high', 'low']).default('high').meta({ description: 'where the producer renders: above 1 GiB (a loaded system) or low' }),
  }),
  z.strictObject({
    kind: z.literal('net-loopback'),
    device: name,
    packets: z.number().int().min(1),
    size: size.default(1514),
    inflight: z.number().int().min(1).default(64),
  }),
  z.strictObject({
    kind: z.literal('disk-io'),
    device: name,
    requests: z.number().int().min(1),
    blockSize: size.default(4096),
    segments: z.number().int().min(1).default(1),
    readPercent: z.number().min(0).max(100).default(50),
  }),
  z.strictObject({
    kind: z.literal('nvme-io'),
    device: name,
    requests: z.number().int().min(1),
    blockSize: size.default(16 * 1024),
    unalignedFirst: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal('dma-selftest'),
    device: name,
    rounds: z.number().int().min(1).default(1),
    bug: z
      .enum(['double-unmap', 'sync-sg-mapped-nents', 'sg-boundary'])
      .optional()
      .meta({ description: 'a driver bug each round commits on purpose through the DMA API (memcpy-engine devices: pci-testdev, generic-ehci, generic-ohci)' }),
  }),
]);

export const BoardSchema = z.strictObject({
  $schema: z.string().optional(),
  name,
  description: z.string().optional(),
  extends: z.string().optional().meta({ description: 'an example board name or a path relative to this file; this file overrides it' }),
  plugins: z.array(z.string()).optional().meta({ description: 'module paths of third-party plugins, relative to this file' }),
  kernel: KernelSchema.prefault({}),
  memory: z.array(MemorySchema).min(1),
  iommus: z.array(IommuSchema).default([]),
  buses: z.array(BusSchema).min(1),
  devices: z.array(DeviceSchema).default([]),
  workloads: z.array(WorkloadSchema).default([]),
});

/** A board as written (input form: sizes may be strings). */
export type BoardInput = z.input<typeof BoardSchema>;
/** A parsed, validated board (all numbers, defaults filled in). */
export type Board = z.output<typeof BoardSchema>;
export type BoardDevice = Board['devices'][number];
export type BoardBus = Board['buses'][number];
export type BoardIommu = Board['iommus'][number];
export type BoardWorkload = Board['workloads'][number];
export type BoardKernel = Board['kernel'];

/** For TS board files: `export default defineBoard({...})` gets completion and checking. */
export function defineBoard(board: BoardInput): BoardInput {
  return board;
}
