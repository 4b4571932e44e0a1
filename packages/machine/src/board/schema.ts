import { z } from 'zod';
import { parseAddress, parseSize } from '@dmasim/core';

/**
 * The board file schema (YAML, JSON, or a typed TS module of the same shape). Every object is strict:
 * an unknown key is an error. Sizes accept numbers or strings with binary units (`512KiB`), addresses
 * numbers or hex strings. The parsed form holds plain numbers.
 */

/** What an editor shows for a key: a line of description and one example value. */
interface KeyDoc {
  readonly [key: string]: unknown;
  readonly description: string;
  readonly examples: unknown[];
  readonly default?: unknown;
}

function doc(description: string, example: unknown, extra: { default?: unknown } = {}): KeyDoc {
  return { description, examples: [example], ...extra };
}

/** The strings parseSize accepts (JSON Schema patterns have no flags, hence the character classes). */
export const SIZE_PATTERN = '^\\s*(0[xX][0-9a-fA-F_]+|[0-9]+(\\.[0-9]+)?\\s*([kKmMgGtT]([iI]?[bB])?|[bB])?)\\s*$';
/** The strings parseAddress accepts. */
export const ADDRESS_PATTERN = '^\\s*(0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)\\s*$';

// errorMessage: what editors (yaml-language-server, VS Code) say when a branch fails, instead of
// "Incorrect type. Expected number" for "banana"
const SIZE_HINT = 'expected a size: a byte count or a string such as "512KiB", "64MiB", "4GiB"';
const ADDRESS_HINT = 'expected an address: a number or a hex string such as "0x7e400000"';

/** A byte count: a number or a string with a binary unit. The editor gets the doc on the input form. */
function size(d: KeyDoc) {
  return z
    .union([z.number().meta({ minimum: 0, errorMessage: SIZE_HINT }), z.string().meta({ pattern: SIZE_PATTERN, errorMessage: SIZE_HINT })])
    .meta({ ...d })
    .transform((v, ctx) => {
      const n = parseSize(v);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected a size: a byte count or a string such as "512KiB", "64MiB", "4GiB"', input: v });
        return z.NEVER;
      }
      return n;
    });
}

/** A physical or bus address: a number or a hex string. */
function address(d: KeyDoc) {
  return z
    .union([z.number().meta({ minimum: 0, errorMessage: ADDRESS_HINT }), z.string().meta({ pattern: ADDRESS_PATTERN, errorMessage: ADDRESS_HINT })])
    .meta({ ...d })
    .transform((v, ctx) => {
      const n = parseAddress(v);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected an address: a number or a hex string such as "0x7e400000"', input: v });
        return z.NEVER;
      }
      return n;
    });
}

/** Names: letters, digits and `_.-`; also the kernel's device names an imported tree gives (`2b500000.iommu`, `soc:firmware`, `0000:01:00.0`). */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:,@+-]*$/;
const name = (d: KeyDoc) => z.string().regex(NAME_RE, 'expected a name: a letter or digit, then letters, digits, "_", ".", "-" (or ":", ",", "@", "+" as in kernel device names)').meta(d);
const streamId = z.number().int().min(0).max(0xffff).meta(doc('a stream id (the SMMU master id), 0 to 0xffff', 0));

export const ProbeOrderSchema = z.union([z.enum(['natural', 'reverse', 'shuffle']), z.array(name(doc('a device or IOMMU name', 'smmu_usb'))).min(1)]);

export const KernelSchema = z
  .object({
    arch: z
      .enum(['arm', 'arm64', 'generic'])
      .default('generic')
      .meta({ ...doc('which arch DMA ops layer wires devices: arm (32-bit arm_iommu mappings, seed 000), arm64 (2015 notifier-based attach, seed 002), generic (iommu-dma with default domains)', 'arm64'), enumDescriptions: ['arch/arm dma-mapping: one IOVA bitmap mapping per master', 'arch/arm64 dma-mapping as in 2015: DMA set up at device creation', 'generic iommu-dma: default domains set up at probe'] }),
    profile: z
      .enum(['linux-4.2', 'linux-6.x'])
      .default('linux-6.x')
      .meta({ ...doc('behaviour profile: the historical code the seeds show, or the later fixed behaviour', 'linux-4.2'), enumDescriptions: ['the 2015 behaviour (seed 002 as posted): setup at device creation, double unmap dies, sg segments may straddle a boundary', 'later kernels: setup at probe with deferral, default domains, double unmap warns'] }),
    defaultDomain: z
      .enum(['per-group', 'per-iommu'])
      .default('per-group')
      .meta({ ...doc('DMA domain policy: one default domain per IOMMU group (the kernel), or one shared domain per IOMMU instance (the seed 002 review proposal)', 'per-iommu'), enumDescriptions: ['one default DMA domain, and so one context bank, per IOMMU group', 'one DMA domain shared by every master of an IOMMU instance'] }),
    strict: z.boolean().default(true).meta(doc('IOMMU TLB invalidation: strict (true, unmap waits for the invalidation) or lazy flush queue (false)', false)),
    dmaDebug: z.boolean().default(true).meta(doc('CONFIG_DMA_API_DEBUG: record every mapping and report driver misuse', true)),
    dmaDebugSg: z.boolean().default(false).meta(doc('CONFIG_DMA_API_DEBUG_SG: also check sg segments against max segment size and boundary (off by default, as in the kernel)', true)),
    swiotlb: z
      .strictObject({
        size: size(doc('size of the default swiotlb pool (swiotlb=, 64 MiB by default); 0: no pool', '64MiB', { default: '64MiB' })).default(64 * 1024 * 1024),
        dynamic: z
          .union([z.literal(false), z.enum(['per-buffer', 'growing'])])
          .default(false)
          .meta(doc('what happens when the fixed pool cannot serve a mapping: false (fail: "swiotlb buffer is full"), per-buffer (seed 004: a dedicated bounce buffer), growing (later kernels: the pool grows)', 'per-buffer')),
        perBufferOrder: z
          .enum(['dynamic-first', 'fixed-first'])
          .default('dynamic-first')
          .meta(doc("per-buffer only: seed 004 as posted tries a dedicated buffer first (dynamic-first); 'fixed-first' uses the pool while it can", 'fixed-first')),
        force: z.boolean().default(false).meta(doc('swiotlb=force: bounce every streaming mapping, even for devices that reach the memory', true)),
        kmallocBounce: z
          .boolean()
          .default(true)
          .meta(doc('CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC (arm64, 6.5+): a small pool when all RAM is in ZONE_DMA, and bouncing of small unaligned buffers for non-coherent devices; false: 6.1-6.4 (no pool, no line)', false)),
      })
      .prefault({})
      .meta(doc('the swiotlb bounce-buffer pool', { size: '64MiB', dynamic: false })),
    armMapping: z
      .strictObject({
        variant: z
          .enum(['extend', 'simple'])
          .default('extend')
          .meta({ ...doc('arm_iommu_create_mapping form: extend (seed 000 as posted) or simple (the reviewer two-argument form)', 'extend'), enumDescriptions: ['seed 000 as posted: base, size, grow step and maximum', 'the reviewer two-argument form: base and size, no growth'] }),
        base: address(doc('first IOVA of each master mapping', '0x80000000', { default: '0x80000000' })).default(0x80000000),
        size: size(doc('initial size of the IOVA space of a mapping', '512KiB', { default: '512KiB' })).default(512 * 1024),
        grow: size(doc('how much a full mapping grows by; 0: it cannot grow', '512KiB', { default: '512KiB' })).default(512 * 1024),
        max: size(doc('the largest a mapping grows to', '128MiB', { default: '128MiB' })).default(128 * 1024 * 1024),
        order: z.number().int().min(0).max(10).default(0).meta(doc('bitmap granule as a page order: one bit covers 2^order pages', 0)),
      })
      .prefault({})
      .meta(doc('the arm (32-bit) dma-mapping IOVA mappings; used when arch is arm', { base: '0x80000000', size: '512KiB', grow: '512KiB', max: '128MiB' })),
    probe: z
      .strictObject({
        order: ProbeOrderSchema.default('natural').meta(doc('order devices are added and probed in: natural (board order), reverse, shuffle (seeded), or an explicit list of names', 'natural')),
        seed: z.number().int().default(1).meta(doc('seed of the scheduler; the same board and seed give the same run', 1)),
      })
      .prefault({})
      .meta(doc('probe ordering: every ordering decision goes through one seeded scheduler', { order: 'natural', seed: 1 })),
    dmaZone: size(doc('end of ZONE_DMA, overriding what the kernel derives (arm64: from the lowest dma-ranges CPU limit, capped at 4 GiB); absent elsewhere: no ZONE_DMA', '1GiB')).optional(),
  })
  .strict();

export const MemorySchema = z.strictObject({
  base: address(doc('CPU physical address of the RAM region', '0x80000000')),
  size: size(doc('size of the RAM region', '2GiB')),
});

export const DmaRangeSchema = z.strictObject({
  bus: address(doc('first bus address of the window, as devices on this bus see it', '0xc0000000')),
  cpu: address(doc('the parent address (CPU physical at the root) the window starts at', '0x0')),
  size: size(doc('size of the window', '1GiB')),
});

export const IommuMasterSchema = z.strictObject({
  device: name(doc('the name of a device on this board', 'sata')),
  streamIds: z.array(streamId).min(1).meta(doc('stream ids the master emits', [0, 1])),
});

/**
 * The keys every IOMMU entry has. The model named by `compatible` accepts and checks its own further
 * keys (an SMMU's `contextBanks`, ...): they pass this schema and go to its plugin's checkBoardKeys;
 * the JSON Schema lists the built-in models' keys from their plugins.
 */
export const IommuSchema = z
  .object({
    name: name(doc('a unique name other entries refer to (devices[].iommus[].iommu, buses[].iommuMap.iommu)', 'smmu0')),
    compatible: z.string().meta(doc('the DT compatible string of the IOMMU model', 'arm,mmu-401')),
    base: address(doc('CPU physical address of its registers', '0x2b500000')),
    size: size(doc('size of its register window', '64KiB', { default: '64KiB' })).default(0x10000),
    irq: z.number().int().min(0).optional().meta(doc('first interrupt number (an SMMU: global fault, then one per context bank); absent: allocated', 40)),
    masters: z.array(IommuMasterSchema).optional().meta(doc('legacy mmu-masters binding, on the IOMMU side', [{ device: 'sata', streamIds: [0] }])),
  })
  .catchall(z.unknown().meta({ description: 'a key of the IOMMU model, checked by its plugin' }));

/** The keys of IommuSchema itself; the rest of an entry belongs to its model. */
export const IOMMU_COMMON_KEYS: readonly string[] = Object.keys(IommuSchema.shape);

export const IommuMapSchema = z.strictObject({
  iommu: name(doc('the name of the IOMMU PCI requester ids map to', 'smmu_pcie')),
  ridBase: z.number().int().min(0).default(0).meta(doc('first requester id (bus << 8 | devfn) of the map', 0)),
  streamBase: z.number().int().min(0).default(0).meta(doc('stream id ridBase maps to', 0)),
  length: z.number().int().min(1).default(0x10000).meta(doc('how many requester ids the map covers', 0x10000)),
  mask: z.number().int().min(0).optional().meta(doc('iommu-map-mask applied to the requester id first (0: every function on one stream)', 0)),
});

export const BusSchema = z.strictObject({
  name: name(doc('a unique name devices and child buses refer to', 'soc')),
  type: z
    .enum(['platform', 'amba', 'pci'])
    .meta({ ...doc('the bus type: which devices it takes and how drivers match', 'platform'), enumDescriptions: ['platform bus: devices matched by DT compatible', 'AMBA bus: primecell devices matched by DT compatible', 'PCI bus: functions matched by vendor:device id'] }),
  parent: name(doc('the bus this one sits below; its dma-ranges CPU side is in the parent bus address space', 'soc')).optional(),
  dmaRanges: z.array(DmaRangeSchema).optional().meta(doc('dma-ranges: the windows of RAM devices on this bus reach, and at which bus addresses', [{ bus: '0xc0000000', cpu: '0x0', size: '1GiB' }])),
  iommuMap: IommuMapSchema.optional().meta(doc('iommu-map of a PCI host bridge: requester ids to stream ids of one IOMMU', { iommu: 'smmu_pcie', ridBase: 0, streamBase: 0, length: 0x10000 })),
});

export const DeviceIommuSchema = z.strictObject({
  iommu: name(doc('the name of an IOMMU on this board', 'smmu0')),
  streamIds: z
    .array(streamId)
    .default([])
    .meta(doc("the ids of the iommus specifier, as many as the model's #iommu-cells: SMMU stream ids (at least one); none for a Rockchip IOMMU", [0])),
  shared: z.boolean().default(false).meta(doc('these stream ids are shared with other masters that also say shared (one IOMMU group, like Juno EHCI/OHCI)', true)),
});

export const PciIdSchema = z.strictObject({
  bdf: z.string().regex(/^[0-9a-fA-F]{2}:[0-1][0-9a-fA-F]\.[0-7]$/, 'expected a bus:device.function such as "01:00.0"').meta(doc('bus:device.function of the PCI function', '01:00.0')),
  vendor: z.number().int().min(0).max(0xffff).meta(doc('PCI vendor id', 0x1b36)),
  device: z.number().int().min(0).max(0xffff).meta(doc('PCI device id', 0x0010)),
});

export const DeviceSchema = z.strictObject({
  name: name(doc('a unique device name (dev_name in the log); workloads and probe orders refer to it', 'sata')),
  compatible: z.string().optional().meta(doc('DT compatible string of a platform or AMBA device model', 'calxeda,hb-ahci')),
  pci: PciIdSchema.optional().meta(doc('a PCI function: its bdf and vendor:device ids (instead of compatible)', { bdf: '01:00.0', vendor: 0x1b36, device: 0x0010 })),
  bus: name(doc('the name of the bus the device sits on', 'soc')),
  base: address(doc('CPU physical address of its registers (platform and AMBA devices)', '0xffe08000')).optional(),
  size: size(doc('size of its register window (default 4 KiB)', '4KiB')).optional(),
  irq: z.number().int().min(0).optional().meta(doc('interrupt number; absent: allocated', 83)),
  iommus: z.array(DeviceIommuSchema).optional().meta(doc('the iommus property: the IOMMUs and stream ids of this master', [{ iommu: 'smmu0', streamIds: [0] }])),
  coherent: z.boolean().optional().meta(doc('dma-coherent: the device snoops CPU caches (default: true for PCI, false otherwise)', false)),
  dmaMask: z.number().int().min(12).max(64).optional().meta(doc('address bits the device can drive on the bus (a hardware limit: the driver may set a wider mask but cannot reach beyond it); absent: only the mask the driver sets (32 until it sets one)', 32)),
  status: z
    .enum(['okay', 'disabled'])
    .default('okay')
    .meta({ ...doc('DT status: a disabled device is not created (how an extending board removes one)', 'disabled'), enumDescriptions: ['the device is created', 'the device is not created'] }),
  properties: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.number())]))
    .optional()
    .meta(doc('extra firmware-node properties the driver reads (a DT-like property bag)', { 'max-segment-size': 65536 })),
});

const workloadDevice = name(doc('the name of the device that runs the workload', 'sata'));
const requests = z.number().int().min(1).meta(doc('how many requests to issue', 500));

export const WorkloadSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('display-import').meta(doc('v3d renders frames, the display imports them as dma-bufs and scans them out', 'display-import')),
    producer: name(doc('the device that renders the buffers (the GPU)', 'v3d')),
    consumer: name(doc('the display device that imports and scans them out', 'hvs')),
    buffers: z.array(size(doc('a buffer size', '512KiB'))).min(1).meta(doc('sizes of the buffers each frame uses', [524288, 815104])),
    frames: z.number().int().min(1).default(1).meta(doc('how many frames', 10)),
    placement: z.enum(['high', 'low']).default('high').meta(doc('where the producer renders: above 1 GiB (a loaded system) or low', 'high')),
  }),
  z.strictObject({
    kind: z.literal('net-loopback').meta(doc('packets sent and received back through the NIC rings', 'net-loopback')),
    device: workloadDevice,
    packets: z.number().int().min(1).meta(doc('how many packets', 2000)),
    size: size(doc('packet size', 1514, { default: 1514 })).default(1514),
    inflight: z.number().int().min(1).default(64).meta(doc('packets mapped and in flight at once', 256)),
  }),
  z.strictObject({
    kind: z.literal('disk-io').meta(doc('block reads and writes through the disk controller', 'disk-io')),
    device: workloadDevice,
    requests,
    blockSize: size(doc('bytes per request', '4KiB', { default: '4KiB' })).default(4096),
    segments: z.number().int().min(1).default(1).meta(doc('scatterlist entries per request', 8)),
    readPercent: z.number().min(0).max(100).default(50).meta(doc('share of reads, in percent', 50)),
  }),
  z.strictObject({
    kind: z.literal('nvme-io').meta(doc('NVMe-style requests through the two-step IOVA API (seed 001)', 'nvme-io')),
    device: workloadDevice,
    requests,
    blockSize: size(doc('bytes per request', '16KiB', { default: '16KiB' })).default(16 * 1024),
    unalignedFirst: z.boolean().default(false).meta(doc('the first segment of each request starts off a page boundary', true)),
  }),
  z.strictObject({
    kind: z.literal('dma-selftest').meta(doc('a memcpy engine maps, copies and checks buffers through the DMA API', 'dma-selftest')),
    device: workloadDevice,
    rounds: z.number().int().min(1).default(1).meta(doc('how many rounds of the self-test', 1)),
    bug: z
      .enum(['double-unmap', 'sync-sg-mapped-nents', 'sg-boundary'])
      .optional()
      .meta(doc('a driver bug each round commits on purpose through the DMA API (memcpy-engine devices: pci-testdev, generic-ehci, generic-ohci)', 'double-unmap')),
  }),
]);

export const BoardSchema = z.strictObject({
  $schema: z.string().optional().meta(doc('where editors find this schema (JSON boards; YAML boards use the yaml-language-server modeline instead)', '../../packages/machine/board.schema.json')),
  name: name(doc('the board name, shown in reports', 'rpi4')),
  description: z.string().optional().meta(doc('one line shown by `dmasim boards`', 'Raspberry Pi 4 Model B, 4 GiB')),
  extends: z
    .union([z.string(), z.array(z.string()).min(1)])
    .optional()
    .meta(doc('boards this file builds on: an example board name or a path relative to this file, or a list of them merged in order (the last wins); this file overrides them', 'juno-r1')),
  devicetree: z.string().optional().meta(doc('a .dtb or .dts (relative to this file) the board starts from; the keys of this file override it (memory the firmware fills in, context-bank counts, workloads, kernel)', 'bcm2711-rpi-4-b.dtb')),
  plugins: z.array(z.string()).optional().meta(doc('module paths of third-party plugins, relative to this file', ['./my-models.ts'])),
  kernel: KernelSchema.prefault({}).meta(doc('kernel configuration and behaviour', { arch: 'arm64', profile: 'linux-6.x' })),
  cpus: z.number().int().min(1).max(4096).default(1).meta(doc('CPUs (num_possible_cpus): one swiotlb area per CPU under linux-6.x', 4)),
  memory: z.array(MemorySchema).min(1).meta(doc('RAM regions', [{ base: '0x0', size: '4GiB' }])),
  iommus: z.array(IommuSchema).default([]).meta(doc('IOMMU instances; omitted: no IOMMU', [{ name: 'smmu0', compatible: 'arm,mmu-401', base: '0x2b500000', contextBanks: 4, streamMatchRegisters: 8 }])),
  buses: z.array(BusSchema).min(1).meta(doc('buses devices sit on', [{ name: 'soc', type: 'platform' }])),
  devices: z.array(DeviceSchema).default([]).meta(doc('devices: a DT compatible or a PCI id names the model', [{ name: 'sata', compatible: 'calxeda,hb-ahci', bus: 'soc', base: '0xffe08000' }])),
  workloads: z.array(WorkloadSchema).default([]).meta(doc('work the drivers do once the board has booted', [{ kind: 'disk-io', device: 'sata', requests: 500 }])),
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
