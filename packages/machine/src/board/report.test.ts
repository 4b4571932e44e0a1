import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoardError, formatIssue, formatPath, loadBoard, parsePath } from './index';

const dir = mkdtempSync(join(tmpdir(), 'dmasim-report-'));
const write = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

/** The formatted problems (errors then warnings) loading `file` gives. */
async function problems(file: string, overrides: string[] = []): Promise<string[]> {
  try {
    const { warnings } = await loadBoard(file, { overrides });
    return warnings.map(formatIssue);
  } catch (e) {
    if (!(e instanceof BoardError)) throw e;
    return [...e.issues, ...e.warnings].map(formatIssue);
  }
}

const BASE = `name: base
memory:
  - { base: 0x80000000, size: 1GiB }
iommus:
  - { name: smmu_sata, compatible: "arm,mmu-401", base: 0x2b500000, contextBanks: 2, streamMatchRegisters: 4 }
buses:
  - { name: soc, type: platform }
devices:
  - { name: sata, compatible: "calxeda,hb-ahci", bus: soc, base: 0x7ff00000, irq: 80, iommus: [{ iommu: smmu_sata, streamIds: [0] }] }
  - { name: xgmac0, compatible: "calxeda,hb-xgmac", bus: soc, base: 0x7ff10000, irq: 81 }
`;

describe('validate reports every problem, each at file:line:column', () => {
  it('finds five mistakes of both kinds (schema and semantic) in one pass, in the file and at the line that has them', async () => {
    const base = write('base.yaml', BASE);
    const mine = write(
      'mine.yaml',
      `extends: ./base.yaml
name: mine
iommus:
  - { name: smmu_sata, contextBank: 4 }
devices:
  - { name: ahci2, compatible: "calxeda,hb-achi", bus: soc, base: 0x7ff20000 }
  - { name: nic, compatible: "calxeda,hb-xgmac", bus: sco, base: 0x7ff30000, iommus: [{ iommu: smmu_sat, streamIds: [1] }] }
  - { name: slow, compatible: "generic-ehci", bus: soc, base: 0x7ff40000, dmaMask: 8 }
`,
    );
    const out = await problems(mine);
    expect(out).toEqual([
      `${mine}:4:24: iommus[0].contextBank: unknown key for a arm,mmu-401; expected one of contextBanks, streamMatchRegisters, coherentWalk, disableBypass; did you mean "contextBanks"?`,
      `${mine}:6:32: devices[0].compatible: unknown device model; expected one of calxeda,hb-ahci, calxeda,hb-xgmac, brcm,bcm2711-hvs, brcm,2711-v3d, generic-ehci, generic-ohci; did you mean "calxeda,hb-ahci"? (found "calxeda,hb-achi")`,
      `${mine}:7:55: devices[1].bus: expected the name of a bus on this board; did you mean "soc"? (found "sco")`,
      `${mine}:7:96: devices[1].iommus[0].iommu: expected the name of an IOMMU on this board; did you mean "smmu_sata"? (found "smmu_sat")`,
      `${mine}:8:84: devices[2].dmaMask: Too small: expected number to be >=12 (found 8)`,
    ]);
    expect(base).toMatch(/base\.yaml$/);
  });

  it('cites the parent file and line for a value the parent set, the child for what it set', async () => {
    write('bad-base.yaml', BASE.replace('bus: soc, base: 0x7ff10000', 'bus: nowhere, base: 0x7ff10000'));
    const child = write('child.yaml', 'extends: ./bad-base.yaml\nname: child\ndevices:\n  - { name: xgmac0, irq: 82 }\n  - { name: extra, compatible: "generic-ehci", bus: elsewhere, base: 0x7ff50000 }\n');
    const out = await problems(child);
    expect(out).toEqual([
      `${join(dir, 'bad-base.yaml')}:10:58: devices[1].bus: expected the name of a bus on this board (found "nowhere")`,
      `${child}:5:53: devices[1].bus: expected the name of a bus on this board (found "elsewhere")`,
    ]);
  });

  it('points a missing key at the object that lacks it, in the file that wrote the object', async () => {
    const f = write('missing.yaml', 'name: m\nmemory:\n  - { base: 0 }\nbuses: [{ name: soc, type: platform }]\n');
    expect(await problems(f)).toEqual([`${f}:3:5: memory[0].size: missing required key "size"`]);
  });

  it('gives JSON boards line numbers too', async () => {
    const f = write('b.json', '{\n  "name": "j",\n  "memory": [{ "base": 0, "size": "1GiB" }],\n  "buses": [{ "name": "soc", "type": "platfrom" }]\n}\n');
    expect(await problems(f)).toEqual([`${f}:4:38: buses[0].type: expected one of "platform", "amba", "pci"; did you mean "platform"? (found "platfrom")`]);
  });
});

describe('warnings: runs as the kernel would, but probably not what was meant', () => {
  it('a swiotlb larger than low memory, two devices on one IRQ, more stream ids than SMRs', async () => {
    const f = write(
      'suspicious.yaml',
      `extends: ./base.yaml
name: suspicious
kernel: { swiotlb: { size: 2GiB } }
devices:
  - { name: xgmac0, irq: 80, iommus: [{ iommu: smmu_sata, streamIds: [1, 2, 3, 4] }] }
`,
    );
    const out = await problems(f);
    expect(out).toEqual([
      `${join(dir, 'base.yaml')}:5:108: iommus[0].streamMatchRegisters: warning: 5 stream ids reach smmu_sata but it has 4 stream match registers; masters past the last free one fail to attach (-ENOSPC)`,
      `${f}:3:28: kernel.swiotlb.size: warning: the swiotlb pool (2GiB) is larger than the 1GiB of RAM below 4GiB it is allocated from`,
      `${f}:5:26: devices[0].irq: warning: interrupt 80 is also used by sata; two devices on one IRQ line`,
    ]);
    const { warnings, board } = await loadBoard(f);
    expect(warnings).toHaveLength(3); // the board still loads
    expect(board.name).toBe('suspicious');
  });

  it('says nothing about the example boards', async () => {
    for (const name of ['rpi4', 'juno-r1', 'calxeda-ecx2000', 'generic-pcie']) expect((await loadBoard(name)).warnings, name).toEqual([]);
  });
});

describe('--set path=value', () => {
  it('types values by the schema: numbers, booleans, strings, sizes, flow lists', async () => {
    const { board, source } = await loadBoard('juno-r1', {
      overrides: ['kernel.probe.seed=7', 'kernel.dmaDebug=false', 'description=123', 'kernel.swiotlb.size=16MiB', 'kernel.probe.order=[ehci, smmu_usb]', 'devices.sata.dmaMask=40', 'memory[1].size=0x100000000', 'devices.lan.properties.tx-ring=128'],
    });
    expect(board.kernel.probe.seed).toBe(7);
    expect(board.kernel.dmaDebug).toBe(false);
    expect(board.description).toBe('123');
    expect(board.kernel.swiotlb.size).toBe(16 * 1024 * 1024);
    expect(board.kernel.probe.order).toEqual(['ehci', 'smmu_usb']);
    expect(board.devices.find((d) => d.name === 'sata')?.dmaMask).toBe(40);
    expect(board.memory[1]?.size).toBe(0x100000000);
    expect(board.devices.find((d) => d.name === 'lan')?.properties).toEqual({ 'tx-ring': 128 });
    expect(JSON.parse(source)).toMatchObject({ description: '123' }); // the trace's board includes what was set
  });

  it('appends with the index past the end of a list', async () => {
    const { board } = await loadBoard('rpi4', { overrides: ['memory[2].base=0x200000000', 'memory[2].size=1GiB'] }); // rpi4 has two regions
    expect(board.memory).toHaveLength(3);
    expect(board.memory[2]).toEqual({ base: 0x200000000, size: 1024 ** 3 });
  });

  it('applies several in order, the last one winning', async () => {
    const { board } = await loadBoard('juno-r1', { overrides: ['kernel.profile=linux-6.x', 'kernel.profile=linux-4.2'] });
    expect(board.kernel.profile).toBe('linux-4.2');
  });

  it('reports each bad override with the others and the board problems', async () => {
    const out = await problems(join(dir, 'base.yaml'), ['kernel.profil=x', 'devices.stata.coherent=true', 'memory[5].size=1', 'kernel.dmaDebug=maybe', 'nonsense']);
    expect(out).toEqual([
      '--set kernel.profil=x: kernel.profil: unknown key "profil"; did you mean "profile"?; expected one of arch, profile, defaultDomain, strict, dmaDebug, dmaDebugSg, swiotlb, armMapping, probe, dmaZone',
      '--set devices.stata.coherent=true: devices: no item named "stata" in devices; did you mean "sata"? (names: sata, xgmac0) (found "stata")',
      '--set memory[5].size=1: memory: memory has 1 item; an index up to 1 (to append) is allowed (found index 5)',
      '--set kernel.dmaDebug=maybe: kernel.dmaDebug: expected boolean (found "maybe")',
      '--set nonsense: expected path=value, e.g. --set kernel.profile=linux-4.2',
    ]);
  });

  it('a value the schema refuses is reported at the --set that gave it', async () => {
    expect(await problems('juno-r1', ['kernel.arch=x86'])).toEqual(['--set kernel.arch=x86: kernel.arch: expected one of "arm", "arm64", "generic" (found "x86")']);
  });

  it('sets any integer a key takes to exactly that integer (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -1e9, max: 1e9 }), async (n) => {
        const { board } = await loadBoard('rpi4', { overrides: [`kernel.probe.seed=${n}`] });
        expect(board.kernel.probe.seed).toBe(n);
      }),
      { numRuns: 25 },
    );
  });
});

describe('board paths', () => {
  it('parsePath inverts formatPath (property)', () => {
    const seg = fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/), fc.nat({ max: 999 }));
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/), fc.array(seg, { maxLength: 6 }), (first, rest) => {
        const path = [first, ...rest];
        expect(parsePath(formatPath(path))).toEqual(path);
      }),
    );
  });
});
