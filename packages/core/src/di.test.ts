import { describe, expect, it } from 'vitest';
import { MiB } from './address';
import { CoreTokens, createCoreServices, register, resolveCore } from './di';
import { createMachineContainer } from './container';

describe('DI: one container per machine', () => {
  it('two machine containers hold distinct services', () => {
    const c1 = createMachineContainer();
    const c2 = createMachineContainer();
    const s1 = register(c1, { memory: [{ base: 0, size: 1 * MiB }] });
    const s2 = register(c2, { memory: [{ base: 0, size: 2 * MiB }] });
    expect(resolveCore(c1)).toEqual(s1);
    expect(c1.resolve(CoreTokens.PhysicalMemory)).toBe(s1.memory);
    expect(c2.resolve(CoreTokens.PhysicalMemory)).toBe(s2.memory);
    expect(c1.resolve(CoreTokens.PhysicalMemory)).not.toBe(c2.resolve(CoreTokens.PhysicalMemory));
    expect(c1.resolve(CoreTokens.Scheduler)).not.toBe(c2.resolve(CoreTokens.Scheduler));
    // writing one machine's memory leaves the other's alone
    s1.memory.write(0x100, Uint8Array.of(1, 2, 3));
    expect(s2.memory.readBytes(0x100, 3)).toEqual(new Uint8Array(3));
    expect(c2.resolve(CoreTokens.PhysicalMemory).totalBytes).toBe(2 * MiB);
  });

  it('a child container does not leak registrations into its parent', () => {
    const parent = createMachineContainer();
    const child = createMachineContainer(parent);
    register(child, { memory: [{ base: 0, size: 1 * MiB }] });
    expect(child.isRegistered(CoreTokens.KernelLog)).toBe(true);
    expect(parent.isRegistered(CoreTokens.KernelLog)).toBe(false);
  });

  it('createCoreServices wires the log to the scheduler clock and the cache to the memory', () => {
    const s = createCoreServices({ memory: [{ base: 0, size: 1 * MiB }], cacheLines: 4, scheduler: { seed: 3 } });
    s.sched.advance(2_000_000_000);
    s.log.info('x');
    expect(s.log.format()).toEqual(['[    2.000000] x']);
    expect(s.cache.memory).toBe(s.memory);
    expect(s.pages.freePagesTotal).toBe(256);
    expect(s.mmio.readl(0x1000_0000)).toBe(0xffffffff);
    expect(s.log.lines).toHaveLength(2);
  });
});
