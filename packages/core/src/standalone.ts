/**
 * `@dmasim/core/standalone`: everything of core except `createMachineContainer`, so importing it
 * loads neither tsyringe nor reflect-metadata. The parts of dmasim reused alone (the IOVA allocator,
 * io-pgtable, swiotlb, the SMMU hardware) import core through this entry.
 */
export * from './address';
export * from './errno';
export * from './memory/physical-memory';
export * from './memory/cpu-cache';
export * from './mm/page-allocator';
export * from './log/kernel-log';
export * from './sched/prng';
export * from './sched/ordering';
export * from './sched/scheduler';
export * from './hw/mmio';
export * from './hw/irq';
export * from './hw/dma-port';
export * from './di';
export * from './events';
