import { describe, expect, it } from 'vitest';
import { GFP_KERNEL } from '@dmasim/core';
import { IOMMU_READ, IOMMU_WRITE, iommuMap, iommuSetFaultHandler, iommuUnmap, type IommuDomain } from '@dmasim/iommu-core';
import * as R from '../hw/regs';
import type { ArmSmmuDomain } from './domain';
import { IotlbFlushQueue } from './flush-queue';
import { makeDriverRig, SMMU_BASE, type DriverRig } from './test-setup';

const PFX = `arm-smmu ${SMMU_BASE.toString(16)}.iommu: `;
const SID = 0x21;
const IOVA = 0x4000_0000;

/** A master behind the SMMU with its default DMA domain, and one page of data to map. */
function setup(rig: DriverRig): { dom: ArmSmmuDomain; page: number } {
  const dev = rig.master('sata', [{ node: 'smmu0', args: [SID] }]);
  const dom = rig.iommu.iommuGetDmaDomain(dev) as ArmSmmuDomain;
  const page = rig.core.pages.allocPages(0, GFP_KERNEL)!;
  rig.core.memory.write(page, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  return { dom, page };
}

function readByte(rig: DriverRig, addr: number): number {
  const b = new Uint8Array(1);
  rig.core.memory.read(addr, b);
  return b[0]!;
}

describe('arm-smmu: domains, page tables and translation', () => {
  it('stage 1 on an MMU-500: the bank is programmed through MMIO and a device DMA reaches the mapped page', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 4 } });
    const { dom, page } = setup(rig);
    expect(dom.stage).toBe('s1');
    const cb = dom.contextBank!;
    expect(iommuMap(dom, IOVA, page, 4096, IOMMU_READ | IOMMU_WRITE)).toBe(0);
    const smmu = rig.driver.instances[0]!;
    // CBAR says stage 1, SCTLR enables it, TTBR0 holds the root and ASID = bank, S2CR points at the bank.
    expect((smmu.regs.gr1Read(R.gr1Cbar(cb)) >>> R.CBAR_TYPE_SHIFT) & 3).toBe(R.CBAR_TYPE_S1_TRANS_S2_BYPASS);
    expect(smmu.regs.cbRead(cb, R.CB_SCTLR) & R.SCTLR_M).toBe(R.SCTLR_M);
    expect(smmu.regs.cbRead(cb, R.CB_TTBR0_LO)).toBe(dom.pgtbl!.ttbr % 2 ** 32);
    expect(smmu.regs.cbRead(cb, R.CB_TTBR0_HI) >>> 16).toBe(cb);
    const idx = smmu.streamMap.findSme(SID, 0);
    expect(rig.core.mmio.readl(SMMU_BASE + R.gr0S2cr(idx)) & R.S2CR_CBNDX_MASK).toBe(cb);
    expect(rig.core.mmio.readl(SMMU_BASE + R.gr0Smr(idx))).toBe((R.SMR_VALID | SID) >>> 0);

    const t = rig.hw.translate(SID, IOVA + 2, 'read', 2);
    expect(t).toEqual({ ok: true, phys: page + 2, length: 2 });
    if (t.ok) expect(readByte(rig, t.phys)).toBe(0xbe);
    expect(dom.geometry.apertureEnd).toBe(2 ** 48 - 1);
  });

  it('stage 2 on an MMU-401 with a VMID per bank translates too', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401' } });
    const { dom, page } = setup(rig);
    expect(dom.stage).toBe('s2');
    expect(dom.cfg.vmid).toBe(dom.cfg.cbndx + 1);
    expect(iommuMap(dom, IOVA, page, 4096, IOMMU_READ)).toBe(0);
    const t = rig.hw.translate(SID, IOVA + 3, 'read');
    expect(t.ok && readByte(rig, t.phys)).toBe(0xef);
    // Read-only mapping: a device write is a permission fault.
    expect(rig.hw.translate(SID, IOVA, 'write').ok).toBe(false);
  });

  it('a DMA to an unmapped IOVA faults: FSR/FAR/FSYNR0/CBFRSYNRA read by the handler, the kernel line printed, FSR cleared', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 4 } });
    const { dom } = setup(rig);
    const bad = 0x1234_5000;
    const t = rig.hw.translate(SID, bad + 0x10, 'write');
    expect(t.ok).toBe(false);
    const cb = dom.contextBank!;
    const smmu = rig.driver.instances[0]!;
    const fsr = smmu.regs.cbRead(cb, R.CB_FSR);
    const fsynr = smmu.regs.cbRead(cb, R.CB_FSYNR0);
    expect(fsr & R.FSR_TF).toBe(R.FSR_TF);
    expect(fsynr & R.FSYNR0_WNR).toBe(R.FSYNR0_WNR);
    const mark = rig.core.log.lines.length;
    rig.irqs();
    expect(rig.lines(mark)).toContain(
      `${PFX}Unhandled context fault: fsr=0x${fsr.toString(16)}, iova=0x${(bad + 0x10).toString(16).padStart(8, '0')}, fsynr=0x${fsynr.toString(16)}, cbfrsynra=0x${SID.toString(16)}, cb=${cb}`,
    );
    // 6.12+: the decoded FSR and FSYNR0 follow (a write translation fault, AArch64 format, level-3 walk)
    const lines = rig.lines(mark);
    const at = lines.findIndex((l) => l.includes('Unhandled context fault'));
    expect(lines[at + 1]).toMatch(new RegExp(`^${PFX}FSR    = [0-9a-f]{8} \\[Format=2 TF\\], SID=0x${SID.toString(16)}$`));
    expect(lines[at + 2]).toMatch(new RegExp(`^${PFX}FSYNR0 = [0-9a-f]{8} \\[S1CBNDX=${cb} WNR PLVL=\\d\\]$`));
    expect(smmu.regs.cbRead(cb, R.CB_FSR)).toBe(0);
    expect(rig.driver.faults).toEqual([expect.objectContaining({ kind: 'context', cb, iova: bad + 0x10, streamId: SID, write: true })]);
  });

  it('a domain with a fault handler gets the fault instead of the log line; linux-4.2 prints its own format', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 4 } });
    const dev = rig.master('gpu', [{ node: 'smmu0', args: [5] }]);
    const dom = rig.iommu.iommuPagingDomainAlloc(dev) as IommuDomain;
    const seen: number[] = [];
    iommuSetFaultHandler(dom, (_d, _dev, iova) => {
      seen.push(iova);
      return 0;
    });
    expect(rig.iommu.iommuAttachDevice(dom, dev)).toBe(0);
    rig.hw.translate(5, 0x9000, 'read');
    const mark = rig.core.log.lines.length;
    rig.irqs();
    expect(seen).toEqual([0x9000]);
    expect(rig.lines(mark).some((l) => l.includes('Unhandled context fault'))).toBe(false);

    const old = makeDriverRig({ hw: { model: 'mmu-401' }, profile: 'linux-4.2', mmuMasters: [{ node: 'sata', streamIds: [3] }] });
    old.driver.busInit([old.bus.platform]);
    const sata = old.master('sata');
    const d = old.iommu.iommuDomainAlloc(old.host)!;
    expect(old.iommu.iommuAttachDevice(d, sata)).toBe(0);
    old.hw.translate(3, 0xabc000, 'read');
    old.irqs();
    expect(old.lines()).toContain(`${PFX}Unhandled context fault: iova=0x00abc000, fsynr=0x${old.driver.faults[0]!.fsynr.toString(16)}, cb=0`);
    expect(old.lines().some((l) => l.includes('FSR    ='))).toBe(false);
  });

  it('strict unmap invalidates and syncs before returning: no stale translation', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 4 } });
    const { dom, page } = setup(rig);
    iommuMap(dom, IOVA, page, 4096, IOMMU_READ);
    expect(rig.hw.translate(SID, IOVA, 'read').ok).toBe(true); // now in the IOTLB
    expect(iommuUnmap(dom, IOVA, 4096)).toBe(4096);
    expect(rig.hw.pendingInvalidations).toBe(0);
    expect(rig.hw.translate(SID, IOVA, 'read').ok).toBe(false);
  });

  it('lazy (DMA_FQ) unmap leaves the IOTLB entry usable until the flush queue is flushed', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 4 }, strict: false });
    const { dom, page } = setup(rig);
    expect(dom.type).toBe('DMA_FQ');
    iommuMap(dom, IOVA, page, 4096, IOMMU_READ);
    expect(rig.hw.translate(SID, IOVA, 'read').ok).toBe(true);
    const fq = new IotlbFlushQueue(dom);
    expect(fq.unmap(IOVA, 4096)).toBe(4096);
    expect(dom.pgtbl!.iovaToPhys(IOVA)).toBe(0); // gone from the tables ...
    const stale = rig.hw.translate(SID, IOVA + 1, 'read');
    expect(stale.ok && readByte(rig, stale.phys)).toBe(0xad); // ... but the device still reaches the page
    fq.flush();
    expect(rig.hw.translate(SID, IOVA, 'read').ok).toBe(false);
  });

  it('freeing a domain disables its bank and returns it and its table pages', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 4 } });
    const dev = rig.master('dma', [{ node: 'smmu0', args: [9] }]);
    const free0 = rig.core.pages.freePagesTotal;
    const dom = rig.iommu.iommuPagingDomainAlloc(dev) as ArmSmmuDomain;
    rig.iommu.iommuAttachDevice(dom, dev);
    const cb = dom.contextBank!;
    const smmu = rig.driver.instances[0]!;
    expect(smmu.contextBanksUsed).toBe(2);
    rig.iommu.iommuDetachDevice(dom, dev);
    rig.iommu.iommuDomainFree(dom);
    expect(smmu.contextBanksUsed).toBe(1);
    expect(smmu.regs.cbRead(cb, R.CB_SCTLR)).toBe(0);
    expect(rig.core.pages.freePagesTotal).toBe(free0);
  });
});
