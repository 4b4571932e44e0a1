import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeV3Rig } from './test-setup';

const expectedFile = resolve(import.meta.dirname, 'testdata/qemu-virt-smmuv3.expected.txt');
const realLog = resolve(import.meta.dirname, '../../../../../shared/reference/real-boot/boot-console-smmuv3-nvme.log');

function expected(): string[] {
  return readFileSync(expectedFile, 'utf8').split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** What dmasim prints and reports for the QEMU virt SMMUv3 with the three PCI functions of the real boot. */
function simulated(): string[] {
  const r = makeV3Rig({ memory: 2 * 1024 ** 3 });
  r.pciFunction('0000:00:01.0', 1);
  r.pciFunction('0000:00:02.0', 2);
  r.pciFunction('0000:00:03.0', 3);
  const smmu = r.driver.instances[0]!;
  const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
  return [
    ...r.lines().filter((l) => l.startsWith('arm-smmu-v3 ')),
    ...r.lines().filter((l) => l.includes('Adding to iommu group')).map((l) => l.slice(l.indexOf(' ') + 1)),
    `INIT: class-iommu: ${smmu.sysfsName}`,
    ...smmu.iomem.map((m) => `INIT: iomem: ${hex8(m.start)}-${hex8(m.end)} : ${m.name}`),
  ];
}

describe('the QEMU virt SMMUv3 as a real 6.1 kernel sees it', () => {
  it('prints the probe and group lines and names the committed expectation gives', () => {
    expect(simulated()).toEqual(expected());
  });

  it.skipIf(!existsSync(realLog))('the committed expectation matches the real boot log in ../shared', () => {
    const log = readFileSync(realLog, 'utf8').split('\n').map((l) => l.replace(/^\[\s*[\d.]+\]\s/, '').trimEnd());
    const real = [
      ...log.filter((l) => l.startsWith('arm-smmu-v3 ')),
      ...log.filter((l) => l.includes('Adding to iommu group')).map((l) => l.slice(l.indexOf(' ') + 1)),
      ...log.filter((l) => l.startsWith('INIT: class-iommu: smmu3') || (l.startsWith('INIT: iomem:') && l.includes('smmuv3'))),
    ];
    expect(real).toEqual(expected());
  });
});
