import { describe, expect, it } from 'vitest';
import { KernelLog, KernelOops, devPrefix, formatTimestamp } from './kernel-log';

function clocked() {
  const clock = { ns: 0 };
  const log = new KernelLog(() => clock.ns);
  return { clock, log };
}

describe('KernelLog: dmesg lines', () => {
  it('formats the simulated time like the kernel', () => {
    expect(formatTimestamp(0)).toBe('[    0.000000]');
    expect(formatTimestamp(1.5e9)).toBe('[    1.500000]');
    expect(formatTimestamp(123_456_789)).toBe('[    0.123456]');
    expect(formatTimestamp(12_345.000_001e9)).toBe('[12345.000001]');
  });

  it('stamps each line with the clock at the time it was logged', () => {
    const { clock, log } = clocked();
    log.info('Booting Linux on physical CPU 0x0');
    clock.ns = 1.5e9;
    log.err('something failed');
    expect(log.format()).toEqual(['[    0.000000] Booting Linux on physical CPU 0x0', '[    1.500000] something failed']);
    expect(log.lines.map((l) => l.level)).toEqual(['info', 'err']);
  });

  it('filters by level, most severe first', () => {
    const { log } = clocked();
    log.debug('noise');
    log.info('info');
    log.warning('careful');
    log.err('broken');
    expect(log.format('warning').map((l) => l.slice(15))).toEqual(['careful', 'broken']);
  });

  it('dev_* lines carry `<driver> <device>: `, else the bus name, else the device name', () => {
    const { log } = clocked();
    log.devWarn({ name: 'gpu', driverName: 'vc4-drm', busName: 'platform' }, 'swiotlb buffer is full');
    log.devErr({ name: 'fe100000.iommu', busName: 'platform' }, 'probe failed');
    log.devInfo({ name: 'lonely' }, 'hello');
    expect(log.format()).toEqual([
      '[    0.000000] vc4-drm gpu: swiotlb buffer is full',
      '[    0.000000] platform fe100000.iommu: probe failed',
      '[    0.000000] lonely: hello',
    ]);
    expect(log.lines[0]!.level).toBe('warning');
    expect(devPrefix({ name: 'gpu', driverName: '' })).toBe('gpu: ');
  });

  it('records carry seconds, the printk level, the dev_printk device and the bare message', () => {
    const { clock, log } = clocked();
    log.info('software IO TLB: area num 2.');
    clock.ns = 1_729_918_000;
    log.devInfo({ name: '0000:00:01.0', driverName: 'nvme' }, 'Adding to iommu group 0');
    log.debug('quiet');
    expect(log.records('info')).toEqual([
      { t: 0, level: 'info', dev: null, msg: 'software IO TLB: area num 2.' },
      { t: 1.729918, level: 'info', dev: '0000:00:01.0', msg: 'Adding to iommu group 0' },
    ]);
  });

  it('dev_WARN: the WARN message carries the driver prefix and the record names the device', () => {
    const { log } = clocked();
    log.warn('drivers/iommu/iommu.c __iommu_probe_device', 'late IOMMU probe at driver bind, something fishy here!', { name: 'm4', driverName: 'pci-testdev' });
    expect(log.format()[1]!.slice(15)).toBe('pci-testdev m4: late IOMMU probe at driver bind, something fishy here!');
    expect(log.records()[1]).toMatchObject({ level: 'warning', dev: 'm4', msg: 'late IOMMU probe at driver bind, something fishy here!' });
  });

  it('emits each line to listeners in its formatted form', () => {
    const { log } = clocked();
    const seen: string[] = [];
    log.on('line', (_l, formatted) => seen.push(formatted));
    log.notice('x');
    expect(seen).toEqual(['[    0.000000] x']);
  });
});

describe('KernelLog: WARN', () => {
  it('prints the banner, counts warnings and lets the run go on', () => {
    const { log } = clocked();
    const events: number[] = [];
    log.on('warn', (n) => events.push(n));
    log.warn('drivers/iommu/dma-iommu.c:123 iommu_dma_unmap_page', 'unmapped 0 of 4096');
    log.warn('kernel/dma/debug.c:1 check_unmap');
    expect(log.warnCount).toBe(2);
    expect(events).toEqual([1, 2]);
    const text = log.format().map((l) => l.slice(15));
    expect(text.slice(0, 8)).toEqual([
      '------------[ cut here ]------------',
      'unmapped 0 of 4096',
      'WARNING: CPU: 0 PID: 1 at drivers/iommu/dma-iommu.c:123 iommu_dma_unmap_page',
      'Modules linked in:',
      'CPU: 0 PID: 1 Comm: swapper/0 Not tainted',
      'Call trace:',
      ' iommu_dma_unmap_page',
      '---[ end trace 0000000000000001 ]---',
    ]);
    // the first WARN taints the kernel
    expect(text[11]).toBe('CPU: 0 PID: 1 Comm: swapper/0 Tainted: G        W');
    expect(text).toHaveLength(15);
    expect(log.oopsed).toBeNull();
  });

  it('WARN_ONCE warns once per site', () => {
    const { log } = clocked();
    expect(log.warnOnce('a.c:1 f', 'first')).toBe(true);
    expect(log.warnOnce('a.c:1 f', 'again')).toBe(false);
    expect(log.warnOnce('b.c:2 g')).toBe(true);
    expect(log.warnCount).toBe(2);
  });
});

describe('KernelLog: ratelimit', () => {
  it('prints 10 lines per 5 s per key, then the suppressed count when a new interval opens', () => {
    const { clock, log } = clocked();
    const printed: boolean[] = [];
    for (let i = 0; i < 15; i++) {
      clock.ns = i * 1e6;
      printed.push(log.ratelimited('swiotlb_tbl_map_single', 'warning', `full ${i}`));
    }
    expect(printed.filter(Boolean)).toHaveLength(10);
    expect(printed.slice(10).some(Boolean)).toBe(false);
    // another key has its own budget
    expect(log.ratelimited('other', 'warning', 'other line')).toBe(true);
    clock.ns = 4.9e9;
    expect(log.ratelimited('swiotlb_tbl_map_single', 'warning', 'still too soon')).toBe(false);
    clock.ns = 5e9;
    expect(log.ratelimited('swiotlb_tbl_map_single', 'warning', 'full again')).toBe(true);
    const tail = log.format().slice(-2);
    expect(tail).toEqual(['[    5.000000] swiotlb_tbl_map_single: 6 callbacks suppressed', '[    5.000000] full again']);
    expect(log.lines).toHaveLength(10 + 1 + 2);
  });

  it('prints no suppressed line when nothing was suppressed', () => {
    const { clock, log } = clocked();
    log.ratelimited('k', 'info', 'one');
    clock.ns = 6e9;
    log.ratelimited('k', 'info', 'two');
    expect(log.format().map((l) => l.slice(15))).toEqual(['one', 'two']);
  });
});

describe('KernelLog: oops', () => {
  it('throws KernelOops, records the report and logs it', () => {
    const { clock, log } = clocked();
    clock.ns = 2e9;
    let caught: unknown;
    try {
      log.oops('Unable to handle kernel paging request at virtual address 0000000000000008', ['pc : iommu_dma_unmap_page+0x10/0x40']);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(KernelOops);
    const report = (caught as KernelOops).report;
    expect(report.timeNs).toBe(2e9);
    expect(report.reason).toMatch(/paging request/);
    expect(log.oopsed).toEqual(report);
    const text = log.format();
    expect(text[0]).toBe('[    2.000000] Internal error: Oops: Unable to handle kernel paging request at virtual address 0000000000000008 [#1] PREEMPT SMP');
    expect(text).toContain('[    2.000000] pc : iommu_dma_unmap_page+0x10/0x40');
    expect(text[text.length - 1]).toMatch(/Kernel panic - not syncing/);
  });

  it('keeps the first report when a dead kernel oopses again', () => {
    const { log } = clocked();
    expect(() => log.oops('first')).toThrow(KernelOops);
    const n = log.lines.length;
    expect(() => log.oops('second')).toThrow(KernelOops);
    expect(log.oopsed?.reason).toBe('first');
    expect(log.lines).toHaveLength(n);
  });
});
