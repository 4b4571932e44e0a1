/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   the bad-board cases mutate an untyped copy of a board on purpose: that is what a broken file is. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BoardError, loadBoard, parseBoard } from './index';

/** A small sound board; each bad case below breaks one thing in a copy of it. */
function goodBoard(): Record<string, unknown> {
  return {
    name: 'tiny',
    kernel: { arch: 'arm64', profile: 'linux-6.x', swiotlb: { size: '64MiB' } },
    memory: [{ base: 0, size: '512MiB' }, { base: '0x80000000', size: '1GiB' }],
    iommus: [{ name: 'smmu0', compatible: 'arm,mmu-401', base: '0x2b500000', contextBanks: 4, streamMatchRegisters: 32 }],
    buses: [
      { name: 'soc', type: 'platform', dmaRanges: [{ bus: '0xc0000000', cpu: 0, size: '1GiB' }] },
      { name: 'pcie0', type: 'pci', iommuMap: { iommu: 'smmu0' } },
    ],
    devices: [
      { name: 'sata', compatible: 'calxeda,hb-ahci', bus: 'soc', base: '0xffe08000', iommus: [{ iommu: 'smmu0', streamIds: [0] }] },
      { name: 'nic', pci: { bdf: '01:00.0', vendor: 0x11ab, device: 0x4380 }, bus: 'pcie0' },
    ],
    workloads: [{ kind: 'disk-io', device: 'sata', requests: 10 }],
  };
}

type Mutator = (b: Record<string, any>) => void;

function errorOf(mutate: Mutator): string {
  const b = goodBoard();
  mutate(b);
  try {
    parseBoard(b, 'boards/tiny.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(BoardError);
    return (e as Error).message;
  }
  throw new Error('expected the board to be refused');
}

describe('board parsing', () => {
  it('accepts a sound board and fills in defaults with plain numbers', () => {
    const { board, hash } = parseBoard(goodBoard(), 'tiny.yaml');
    expect(board.memory[0]).toEqual({ base: 0, size: 512 * 1024 ** 2 });
    expect(board.buses[0]!.dmaRanges![0]).toEqual({ bus: 0xc0000000, cpu: 0, size: 1024 ** 3 });
    expect(board.kernel.swiotlb).toEqual({ size: 64 * 1024 ** 2, dynamic: false, perBufferOrder: 'dynamic-first', force: false, kmallocBounce: true });
    expect(board.kernel.defaultDomain).toBe('per-group');
    expect(board.iommus[0]!.size).toBe(0x10000);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same hash for the same board whatever the key order', () => {
    const a = goodBoard();
    const b = Object.fromEntries(Object.entries(goodBoard()).reverse());
    expect(parseBoard(a).hash).toBe(parseBoard(b).hash);
  });
});

describe('bad board files name the file, the path and what was expected', () => {
  const cases: [string, Mutator, RegExp][] = [
    ['unknown top-level key', (b) => (b.devics = []), /tiny\.yaml: devics|tiny\.yaml: .*unknown key "devics"/],
    ['unknown key in a device', (b) => (b.devices[0].colour = 'red'), /devices\[0\]: unknown key "colour"/],
    ['wrong type for a size', (b) => (b.memory[0].size = true), /memory\[0\]\.size: .*(size|expected)/],
    ['unparsable size string', (b) => (b.memory[0].size = '12 parsecs'), /memory\[0\]\.size: expected a size/],
    ['bad hex address', (b) => (b.devices[0].base = '0xZZ'), /devices\[0\]\.base: expected an address/],
    ['wrong enum value', (b) => (b.kernel.arch = 'x86'), /kernel\.arch: expected one of "arm", "arm64", "generic" \(found "x86"\)/],
    ['missing required name', (b) => delete b.name, /tiny\.yaml: name: missing required key "name"/],
    ['unknown bus reference', (b) => (b.devices[0].bus = 'nowhere'), /devices\[0\]\.bus: expected the name of a bus on this board \(found "nowhere"\)/],
    ['unknown IOMMU reference', (b) => (b.devices[0].iommus[0].iommu = 'smmu9'), /devices\[0\]\.iommus\[0\]\.iommu: expected the name of an IOMMU/],
    ['overlapping RAM', (b) => b.memory.push({ base: '0x10000000', size: '1GiB' }), /memory\[2\]: RAM region overlaps memory\[0\]/],
    ['overlapping MMIO', (b) => (b.iommus[0].base = '0xffe08800'), /devices\[0\]\.base: MMIO range overlaps iommus\[0\]/],
    ['MMIO over RAM', (b) => (b.devices[0].base = '0x1000'), /devices\[0\]\.base: MMIO range overlaps RAM memory\[0\]/],
    ['duplicate names', (b) => (b.devices[1].name = 'sata'), /devices\[1\]\.name: duplicate name "sata"/],
    ['stream id claimed twice', (b) => b.devices.push({ name: 'sata2', compatible: 'calxeda,hb-ahci', bus: 'soc', base: '0xffe09000', iommus: [{ iommu: 'smmu0', streamIds: [0] }] }), /devices\[2\]\.iommus\[0\]\.streamIds\[0\]: stream id 0 on smmu0 is already claimed by sata/],
    ['stream shared by one side only', (b) => b.devices.push({ name: 'sata2', compatible: 'calxeda,hb-ahci', bus: 'soc', base: '0xffe09000', iommus: [{ iommu: 'smmu0', streamIds: [0], shared: true }] }), /stream id 0 on smmu0 is already claimed by sata; masters that really share a stream say "shared: true"/],
    ['stream id claimed by mmu-masters and iommus', (b) => (b.iommus[0].masters = [{ device: 'nic', streamIds: [0] }]), /stream id 0 on smmu0 is already claimed/],
    ['PCI device without a bdf', (b) => delete b.devices[1].pci.bdf, /devices\[1\]\.pci\.bdf: missing required key "bdf"/],
    ['PCI device without pci entry', (b) => b.devices.push({ name: 'x', compatible: 'calxeda,hb-ahci', bus: 'pcie0' }), /devices\[2\]\.pci: a device on PCI bus "pcie0" needs a "pci" entry/],
    ['malformed bdf', (b) => (b.devices[1].pci.bdf = '1:0'), /devices\[1\]\.pci\.bdf: expected a bus:device\.function/],
    ['dma-ranges outside the parent', (b) => b.buses.push({ name: 'sub', type: 'platform', parent: 'soc', dmaRanges: [{ bus: 0, cpu: 0, size: '1GiB' }] }), /buses\[2\]\.dmaRanges\[0\]: range 0x0-0x3fffffff is outside every dma-ranges window of the parent bus "soc"/],
    ['context banks the model cannot have', (b) => (b.iommus[0].contextBanks = 0), /iommus\[0\]\.contextBanks: a arm,mmu-401 can have 1 to 8 context banks \(found 0\)/],
    ['too many context banks', (b) => (b.iommus[0].contextBanks = 200), /contextBanks: a arm,mmu-401 can have 1 to 8/],
    ['unknown device compatible', (b) => (b.devices[0].compatible = 'acme,dma-blaster'), /devices\[0\]\.compatible: unknown device model; expected one of .*calxeda,hb-ahci/],
    ['unknown IOMMU compatible', (b) => (b.iommus[0].compatible = 'acme,iommu-9000'), /iommus\[0\]\.compatible: unknown IOMMU model/],
    ['unknown PCI id', (b) => (b.devices[1].pci.device = 0x1234), /devices\[1\]\.pci: unknown PCI device 11ab:1234/],
    ['duplicate bdf on one bus', (b) => b.devices.push({ name: 'nic2', pci: { bdf: '01:00.0', vendor: 0x11ab, device: 0x4380 }, bus: 'pcie0' }), /devices\[2\]\.pci\.bdf: bdf 01:00\.0 on pcie0 is already used by nic/],
    ['unknown workload kind', (b) => (b.workloads[0].kind = 'bake'), /workloads\[0\]\.kind: expected "kind" to be one of/],
    ['workload on a device that cannot run it', (b) => (b.workloads[0] = { kind: 'net-loopback', device: 'sata', packets: 1 }), /workloads\[0\]\.device: device "sata" cannot run a net-loopback workload/],
    ['workload on a missing device', (b) => (b.workloads[0].device = 'ghost'), /workloads\[0\]\.device: expected the name of a device/],
    ['probe order naming a missing device', (b) => (b.kernel.probe = { order: ['sata', 'ghost'] }), /kernel\.probe\.order\[1\]: expected the name of a device or IOMMU/],
    ['platform device without base', (b) => delete b.devices[0].base, /devices\[0\]\.base: a platform or AMBA device needs the base address/],
    ['bus parent cycle', (b) => b.buses.push({ name: 'a', type: 'platform', parent: 'b' }, { name: 'b', type: 'platform', parent: 'a' }), /buses\[2\]\.parent: bus parents form a cycle/],
    ['iommu-map on a platform bus', (b) => (b.buses[0].iommuMap = { iommu: 'smmu0' }), /buses\[0\]\.iommuMap: iommu-map applies to PCI buses only/],
    ['empty memory list', (b) => (b.memory = []), /memory: .*(>=1|at least|too small|expected)/i],
  ];

  for (const [what, mutate, expected] of cases) {
    it(what, () => {
      const msg = errorOf(mutate);
      expect(msg).toMatch(/^boards\/tiny\.yaml: /m);
      expect(msg).toMatch(expected);
    });
  }

  it('accepts a stream id shared by masters that both say so', () => {
    const b = goodBoard() as Record<string, any>;
    b.devices[0].iommus[0].shared = true;
    b.devices.push({ name: 'sata2', compatible: 'calxeda,hb-ahci', bus: 'soc', base: '0xffe09000', iommus: [{ iommu: 'smmu0', streamIds: [0], shared: true }] });
    expect(parseBoard(b).board.devices).toHaveLength(3);
  });

  it('reports every problem at once, not only the first', () => {
    const msg = errorOf((b) => {
      b.devices[0].bus = 'nowhere';
      b.iommus[0].contextBanks = 0;
    });
    expect(msg.split('\n')).toHaveLength(2);
  });
});

describe('board files on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmasim-board-'));

  it('names the line of a YAML syntax error', async () => {
    const f = join(dir, 'broken.yaml');
    writeFileSync(f, 'name: x\nmemory: [ { base: 0, size: 1GiB }\n');
    await expect(loadBoard(f)).rejects.toThrow(/broken\.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/);
  });

  it('explains an unquoted compatible string split by a comma in a flow mapping', async () => {
    const f = join(dir, 'unquoted.yaml');
    writeFileSync(f, 'name: x\nmemory: [{ base: 0, size: 1GiB }]\nbuses: [{ name: soc, type: platform }]\ndevices:\n  - { name: sata, compatible: calxeda,hb-ahci, bus: soc, base: 0xffe08000 }\n');
    await expect(loadBoard(f)).rejects.toThrow(/devices\[0\]: unknown key "hb-ahci".*quote the compatible string, e\.g\. compatible: "calxeda,hb-ahci"/);
  });

  it('refuses a duplicate YAML key', async () => {
    const f = join(dir, 'dup.yaml');
    writeFileSync(f, 'name: x\nname: y\n');
    await expect(loadBoard(f)).rejects.toThrow(/dup\.yaml:2:1: invalid YAML: Map keys must be unique$/);
  });

  it('layers a board on another with extends: last write wins, named lists merge by name', async () => {
    writeFileSync(join(dir, 'base.json'), JSON.stringify(goodBoard()));
    writeFileSync(join(dir, 'scenario.yaml'), 'extends: ./base.json\nname: scenario\nkernel: { defaultDomain: per-iommu }\ndevices:\n  - { name: sata, coherent: true }\n');
    const { board, chain } = await loadBoard(join(dir, 'scenario.yaml'));
    expect(board.name).toBe('scenario');
    expect(board.kernel.defaultDomain).toBe('per-iommu');
    expect(board.kernel.arch).toBe('arm64');
    const sata = board.devices.find((d) => d.name === 'sata');
    expect(sata?.coherent).toBe(true);
    expect(sata?.compatible).toBe('calxeda,hb-ahci');
    expect(board.devices).toHaveLength(2);
    expect(chain.map((f) => f.split('/').pop())).toEqual(['base.json', 'scenario.yaml']);
  });

  it('layers several boards with extends: [a, b]: b over a, this file over both', async () => {
    writeFileSync(join(dir, 'base2.json'), JSON.stringify(goodBoard()));
    writeFileSync(join(dir, 'lazy.yaml'), 'extends: ./base2.json\nname: lazy\nkernel: { strict: false, profile: linux-4.2 }\n');
    writeFileSync(join(dir, 'no-nic.yaml'), 'extends: ./base2.json\nname: no-nic\nkernel: { profile: linux-6.x }\ndevices:\n  - { name: nic, status: disabled }\n');
    writeFileSync(join(dir, 'both.yaml'), 'extends: [./lazy.yaml, ./no-nic.yaml]\nname: both\n');
    const { board, chain } = await loadBoard(join(dir, 'both.yaml'));
    expect(board.kernel.strict).toBe(false); // from lazy, untouched by no-nic
    expect(board.kernel.profile).toBe('linux-6.x'); // both set it: the last listed wins
    expect(board.devices.find((d) => d.name === 'nic')?.status).toBe('disabled');
    expect(chain.map((f) => f.split('/').pop())).toEqual(['base2.json', 'lazy.yaml', 'no-nic.yaml', 'both.yaml']);
  });

  it('refuses an extends cycle', async () => {
    writeFileSync(join(dir, 'c1.yaml'), 'extends: ./c2.yaml\nname: c1\n');
    writeFileSync(join(dir, 'c2.yaml'), 'extends: ./c1.yaml\nname: c2\n');
    await expect(loadBoard(join(dir, 'c1.yaml'))).rejects.toThrow(/extends: extends cycle: c1\.yaml -> c2\.yaml -> c1\.yaml/);
  });

  it('refuses a board that does not exist', async () => {
    await expect(loadBoard(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml: no such board file or example board/);
  });

  it('loads the TS form', async () => {
    const f = join(dir, 'board.ts');
    writeFileSync(f, `export default ${JSON.stringify(goodBoard())};\n`);
    const { board } = await loadBoard(f);
    expect(board.devices.map((d) => d.name)).toEqual(['sata', 'nic']);
  });
});
