/**
 * devices benchmarks.
 *
 * - `devices.sata.iops`: 4 KiB random writes (queue depth 8) on the Calxeda SATA model behind a
 *   strict iommu-dma domain (iommu-core FakeIommu page table; see bench/iommu-stack.ts). Every
 *   request is mapped with dma_map_sg, its PRDT read and its data moved through the DMA port.
 * - `devices.xgmac.pps`: 1514-byte loopback frames on the xgmac model behind the same strict
 *   domain, 64 TX mappings kept live; each frame mapped, sent, received into a remapped buffer.
 * - `devices.vc4.import-8m`: an 8 MiB frame rendered by v3d above 1 GiB, imported by vc4 through
 *   swiotlb dynamic bounce buffers (map_sgtable + scan-out DMA + unmap), as a ratio of its byte
 *   rate to `raw.copy.1m`.
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { GiB, MiB, PAGE_SIZE } from '@dmasim/core';
import { dmaDirectReach, swiotlbPortFor } from '@dmasim/dma-mapping';
import { Swiotlb } from '@dmasim/swiotlb';
import { ahciHostOf } from '../src/sata/ahci-driver';
import { calxedaSataModel } from '../src/sata/model';
import { netDevOf } from '../src/net/ring-nic-driver';
import { calxedaXgmacModel } from '../src/net/xgmac-model';
import { rpi4V3dModel, rpi4Vc4Model } from '../src/gpu/models';
import { v3dGpuOf } from '../src/gpu/v3d-driver';
import { vc4DrmOf } from '../src/gpu/vc4-driver';
import { waitFor } from '../src/common/wait';
import { RPI4_SOC_WINDOW, addDevice, makeRig, registerModel } from '../src/testing/rig';
import { behindIommu, machine } from './iommu-stack';

async function sataIops(ctx: BenchContext): Promise<void> {
  const m = machine(true);
  const { dev } = behindIommu(m, calxedaSataModel, 'sata', true, { compatible: 'calxeda,hb-ahci' });
  const host = ahciHostOf(dev);
  if (host === null) throw new Error('bench: ahci did not bind');
  const depth = 8;
  const bufs = Array.from({ length: depth }, () => m.rig.core.pages.allocPages(0)!);
  let lba = 0;
  await ctx.rate(
    'devices.sata.iops',
    () => {
      for (let i = 0; i < depth; i++) {
        // a pseudo-random walk over 4 GiB of sectors
        lba = (lba * 1103515245 + 12345) % 2 ** 23;
        const cmd = host.submit({ write: true, lba: lba * 8, sectors: 8, segments: [{ phys: bufs[i]!, len: PAGE_SIZE }] });
        if (typeof cmd === 'number') throw new Error(`bench: submit failed ${cmd}`);
      }
      if (host.waitIdle() !== 0) throw new Error('bench: timeout');
    },
    { unit: 'ops/s', opsPerCall: depth, min: 5_000 },
  );
}

async function xgmacPps(ctx: BenchContext): Promise<void> {
  const m = machine(true);
  const { dev } = behindIommu(m, calxedaXgmacModel, 'xgmac0', true, { compatible: 'calxeda,hb-xgmac' });
  const nd = netDevOf(dev);
  if (nd === null) throw new Error('bench: xgmac did not bind');
  nd.txKeep = 64;
  let received = 0;
  nd.onReceive = () => {
    received++;
  };
  const frame = new Uint8Array(1514).fill(0x5a);
  const burst = 16;
  await ctx.rate(
    'devices.xgmac.pps',
    () => {
      for (let i = 0; i < burst; i++) if (nd.xmit(frame) !== 0) throw new Error('bench: xmit failed');
      waitFor(m.rig.core.sched, () => nd.txIdle);
    },
    { unit: 'packets/s', opsPerCall: burst, min: 2_000 },
  );
  if (received === 0) throw new Error('bench: nothing came back');
}

async function vc4Import(ctx: BenchContext): Promise<void> {
  const rig = makeRig({
    ram: 2 * GiB,
    dmaZoneEnd: 1 * GiB,
    swiotlb: (core) => swiotlbPortFor(new Swiotlb({ ...core, reach: dmaDirectReach }, { size: 64 * MiB, verbose: false, dynamic: 'per-buffer' })),
  });
  registerModel(rig, rpi4V3dModel);
  registerModel(rig, rpi4Vc4Model);
  addDevice(rig, rpi4Vc4Model, { name: 'hvs', compatible: 'brcm,bcm2711-hvs', base: 0xfe400000, irq: 97, dmaRanges: RPI4_SOC_WINDOW });
  addDevice(rig, rpi4V3dModel, { name: 'v3d', compatible: 'brcm,2711-v3d', base: 0xfec00000, irq: 74 });
  const v3d = v3dGpuOf(rig.devices.get('v3d')!)!;
  const drm = vc4DrmOf(rig.bus.core.devices.get('gpu')!)!;
  const size = 8 * MiB;
  const bo = v3d.createBo(size, 'high');
  if (typeof bo === 'number' || v3d.render(bo, 7) !== 0) throw new Error('bench: render failed');
  const buf = v3d.exportDmaBuf(bo);
  const frames = await ctx.rate(
    'devices.vc4.import-8m.frames',
    () => {
      const fb = drm.importDmaBuf(buf);
      if (typeof fb === 'number') throw new Error(`bench: import failed ${fb}`);
      const r = drm.scanout(fb);
      drm.releaseFb(fb);
      if (typeof r === 'number') throw new Error('bench: scanout failed');
    },
    { unit: 'frames/s', timeMs: 1000 },
  );
  const gbps = (frames.value * size) / 1e9;
  const raw = ctx.baseline('raw.copy.1m');
  const ratio = gbps / raw;
  const target = 0.02;
  ctx.record({ id: 'devices.vc4.import-8m', value: ratio, unit: 'ratio', better: 'higher', baseline: 'raw.copy.1m', ratio, target: `>= ${target}`, met: ratio >= target });
  v3d.freeBo(bo);
}

export default async (ctx: BenchContext): Promise<void> => {
  await sataIops(ctx);
  await xgmacPps(ctx);
  await vc4Import(ctx);
};
