import { describe, expect, it } from 'vitest';
import { GFP_KERNEL, TranslatingDmaPort } from '@dmasim/core';
import { IOMMU_READ, IOMMU_WRITE, IommuIotlbGather, iommuFlushIotlbAll, iommuIotlbSync, iommuMap, iommuUnmap, iommuUnmapFast } from '@dmasim/iommu-core';
import { SmmuV3DmaHop } from '../hw/dma-hop';
import { makeV3Rig, type V3Rig } from './test-setup';

const IOVA = 0xfffff000;

function portFor(r: V3Rig, sid: number): TranslatingDmaPort {
  return new TranslatingDmaPort(r.core.cache, true, [new SmmuV3DmaHop(r.hw, () => sid)]);
}

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

describe('DMA through arm-smmu-v3 domains', () => {
  it('moves a device write through the stage-1 tables to the mapped page', () => {
    const r = makeV3Rig();
    const dev = r.master('sata', [0x10]);
    const domain = r.iommu.iommuGetDmaDomain(dev)!;
    expect(domain.type).toBe('DMA');
    const page = r.core.pages.allocPages(0, GFP_KERNEL)!;
    expect(iommuMap(domain, IOVA, page, 4096, IOMMU_READ | IOMMU_WRITE)).toBe(0);
    const data = pattern(4096, 3);
    expect(portFor(r, 0x10).write(IOVA, data).ok).toBe(true);
    expect(r.core.memory.readBytes(page, 4096)).toEqual(data);
    const back = new Uint8Array(4096);
    expect(portFor(r, 0x10).read(IOVA, back).ok).toBe(true);
    expect(back).toEqual(data);
    // the CD and STE were fetched once, then the walk was cached
    expect(r.hw.counters.configFetches).toBe(1);
    expect(r.hw.counters.hits).toBeGreaterThan(0);
  });

  it('faults a write to an unmapped IOVA: event 0x10 printed, no byte in memory', () => {
    const r = makeV3Rig();
    const dev = r.master('sata', [0x10]);
    const domain = r.iommu.iommuGetDmaDomain(dev)!;
    const page = r.core.pages.allocPages(0, GFP_KERNEL)!;
    r.core.memory.fill(page, 4096, 0xaa);
    iommuMap(domain, IOVA, page, 4096, IOMMU_READ | IOMMU_WRITE);
    expect(iommuUnmap(domain, IOVA, 4096)).toBe(4096);
    const mark = r.core.log.lines.length;
    const res = portFor(r, 0x10).write(IOVA + 0x80, pattern(64, 1));
    expect(res).toEqual({ ok: false, fault: 'iommu-fault', addr: IOVA + 0x80 });
    expect(r.core.memory.readBytes(page, 4096)).toEqual(new Uint8Array(4096).fill(0xaa));
    r.irqs();
    expect(r.lines(mark)).toEqual([
      'arm-smmu-v3 9050000.smmuv3: event 0x10 received:',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000001000000010',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000020000000000',
      'arm-smmu-v3 9050000.smmuv3: \t0x00000000fffff080',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000',
    ]);
    expect(r.driver.events).toEqual([{ smmu: '9050000.smmuv3', id: 0x10, name: 'F_TRANSLATION', sid: 0x10, iova: IOVA + 0x80, read: false, device: 'sata' }]);
  });

  it('refuses a write to a read-only mapping with F_PERMISSION and keeps the page intact', () => {
    const r = makeV3Rig();
    const dev = r.master('nic', [0x11]);
    const page = r.core.pages.allocPages(0, GFP_KERNEL)!;
    iommuMap(r.iommu.iommuGetDmaDomain(dev)!, IOVA, page, 4096, IOMMU_READ);
    expect(portFor(r, 0x11).read(IOVA, new Uint8Array(16)).ok).toBe(true);
    expect(portFor(r, 0x11).write(IOVA, pattern(16, 9)).ok).toBe(false);
    expect(r.core.memory.readBytes(page, 16)).toEqual(new Uint8Array(16));
    r.irqs();
    expect(r.driver.events.map((e) => e.name)).toEqual(['F_PERMISSION']);
  });

  it('reports C_BAD_STREAMID for a stream no master owns (no level-2 table), and nothing is written', () => {
    const r = makeV3Rig();
    r.master('sata', [0x10]);
    const mark = r.core.log.lines.length;
    const t = r.hw.translate(0x4321, 0x40000000, 'write');
    expect(t.ok).toBe(false);
    expect(!t.ok && t.fault.kind).toBe('bad-streamid');
    r.irqs();
    expect(r.lines(mark)).toEqual([
      'arm-smmu-v3 9050000.smmuv3: event 0x02 received:',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000432100000002',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000',
    ]);
  });

  it('aborts a stream whose level-2 table exists but has no master, silently (disable_bypass)', () => {
    const r = makeV3Rig();
    r.master('sata', [0x10]);
    const t = r.hw.translate(0x11, 0x40000000, 'read');
    expect(!t.ok && t.fault.kind).toBe('ste-abort');
    r.irqs();
    expect(r.driver.events).toEqual([]);
  });

  it('bypasses identity domains and aborts blocked ones', () => {
    const r = makeV3Rig();
    const dev = r.master('sata', [0x10]);
    const ident = r.driver.ops.domainAlloc('IDENTITY')!;
    expect(r.iommu.iommuAttachDevice(ident, dev)).toBe(0);
    expect(r.hw.translate(0x10, 0x41234000, 'read')).toEqual({ ok: true, phys: 0x41234000, length: 1 });
    r.iommu.iommuDetachDevice(ident, dev);
    // back on the DMA domain: nothing is mapped there
    expect(r.hw.translate(0x10, 0x41234000, 'read').ok).toBe(false);
    const blocked = r.driver.ops.domainAlloc('BLOCKED')!;
    expect(r.iommu.iommuAttachDevice(blocked, dev)).toBe(0);
    const t = r.hw.translate(0x10, 0x41234000, 'read');
    expect(!t.ok && t.fault.kind).toBe('ste-abort');
  });

  it('gives each domain its own ASID from 1 and frees it with the domain', () => {
    const r = makeV3Rig();
    const a = r.master('a', [1]);
    const b = r.master('b', [2]);
    const asid = (d: unknown) => (d as { s1Cfg: { cd: { asid: number } } }).s1Cfg.cd.asid;
    const da = r.iommu.iommuGetDmaDomain(a)!;
    const db = r.iommu.iommuGetDmaDomain(b)!;
    expect([asid(da), asid(db)]).toEqual([1, 2]);
    const un = r.driver.ops.domainAlloc('UNMANAGED')!;
    expect(r.iommu.iommuAttachDevice(un, a)).toBe(0);
    expect(asid(un)).toBe(3);
  });

  it('takes stream ids from a PCI iommu-map and groups PCI functions one per group', () => {
    const r = makeV3Rig();
    const mark = r.core.log.lines.length;
    const nvme = r.pciFunction('0000:00:01.0', 1);
    const e1000 = r.pciFunction('0000:00:02.0', 2);
    expect(r.driver.master(nvme)?.sids).toEqual([8]);
    expect(r.driver.master(e1000)?.sids).toEqual([16]);
    expect(r.lines(mark)).toEqual(['pci 0000:00:01.0: Adding to iommu group 0', 'pci 0000:00:02.0: Adding to iommu group 1']);
    const page = r.core.pages.allocPages(0, GFP_KERNEL)!;
    iommuMap(r.iommu.iommuGetDmaDomain(nvme)!, IOVA, page, 4096, IOMMU_READ | IOMMU_WRITE);
    expect(portFor(r, 8).write(IOVA, pattern(512, 5)).ok).toBe(true);
    expect(r.core.memory.readBytes(page, 512)).toEqual(pattern(512, 5));
    // the other function's stream has its own domain: the nvme mapping is not visible to it
    expect(portFor(r, 16).read(IOVA, new Uint8Array(4)).ok).toBe(false);
  });
});

describe('stage-2 domains on an SMMUv3 without stage 1', () => {
  it('translates through the STE’s VTCR and S2TTB, and reports a stage-2 F_TRANSLATION with the IPA', () => {
    const r = makeV3Rig({ hw: { stage1: false, stage2: true, vmid16: true } });
    const dev = r.master('sata', [0x30]);
    const domain = r.iommu.iommuGetDmaDomain(dev)!;
    expect((domain as unknown as { stage: string; s2Cfg: { vmid: number } }).stage).toBe('s2');
    expect((domain as unknown as { s2Cfg: { vmid: number } }).s2Cfg.vmid).toBe(1);
    const page = r.core.pages.allocPages(0, GFP_KERNEL)!;
    expect(iommuMap(domain, IOVA, page, 4096, IOMMU_READ | IOMMU_WRITE)).toBe(0);
    expect(portFor(r, 0x30).write(IOVA + 16, pattern(32, 4)).ok).toBe(true);
    expect(r.core.memory.readBytes(page + 16, 32)).toEqual(pattern(32, 4));
    expect(iommuUnmap(domain, IOVA, 4096)).toBe(4096);
    expect(portFor(r, 0x30).read(IOVA, new Uint8Array(8)).ok).toBe(false);
    const mark = r.core.log.lines.length;
    r.irqs();
    // dword 1: RnW (read) and S2 set, CLASS = IN; dword 3: the IPA
    expect(r.lines(mark).slice(1)).toEqual([
      'arm-smmu-v3 9050000.smmuv3: \t0x0000003000000010',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000028800000000',
      'arm-smmu-v3 9050000.smmuv3: \t0x00000000fffff000',
      'arm-smmu-v3 9050000.smmuv3: \t0x00000000fffff000',
    ]);
  });
});

describe('lazy (DMA_FQ) domains', () => {
  it('leave the IOTLB entry of a queued unmap live until the flush queue flushes the ASID', () => {
    const r = makeV3Rig({ strict: false });
    const dev = r.master('nic', [0x40]);
    const domain = r.iommu.iommuGetDmaDomain(dev)!;
    expect(domain.type).toBe('DMA_FQ');
    const page = r.core.pages.allocPages(0, GFP_KERNEL)!;
    iommuMap(domain, IOVA, page, 4096, IOMMU_READ | IOMMU_WRITE);
    expect(r.hw.translate(0x40, IOVA, 'read').ok).toBe(true);
    const gather = new IommuIotlbGather();
    gather.queued = true;
    expect(iommuUnmapFast(domain, IOVA, 4096, gather)).toBe(4096);
    iommuIotlbSync(domain, gather);
    // the window a flush queue leaves open: the device still reaches the freed page
    expect(r.hw.translate(0x40, IOVA, 'read')).toMatchObject({ ok: true, phys: page });
    iommuFlushIotlbAll(domain);
    expect(r.hw.translate(0x40, IOVA, 'read').ok).toBe(false);
  });
});
