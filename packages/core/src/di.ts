import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { CpuCache } from './memory/cpu-cache';
import { PhysicalMemory, type RamRegion } from './memory/physical-memory';
import { PageAllocator, type PageAllocatorOptions } from './mm/page-allocator';
import { KernelLog } from './log/kernel-log';
import { Scheduler, type SchedulerOptions } from './sched/scheduler';
import { MmioBus } from './hw/mmio';
import { IrqController } from './hw/irq';

/**
 * Injection tokens of the services `core` provides to a machine. Higher packages declare their own
 * tokens the same way. Tokens are symbols, so two packages can never collide by name.
 */
export const CoreTokens = {
  PhysicalMemory: Symbol('dmasim.PhysicalMemory') as InjectionToken<PhysicalMemory>,
  CpuCache: Symbol('dmasim.CpuCache') as InjectionToken<CpuCache>,
  PageAllocator: Symbol('dmasim.PageAllocator') as InjectionToken<PageAllocator>,
  KernelLog: Symbol('dmasim.KernelLog') as InjectionToken<KernelLog>,
  Scheduler: Symbol('dmasim.Scheduler') as InjectionToken<Scheduler>,
  MmioBus: Symbol('dmasim.MmioBus') as InjectionToken<MmioBus>,
  IrqController: Symbol('dmasim.IrqController') as InjectionToken<IrqController>,
} as const;

export interface CoreOptions {
  readonly memory: readonly RamRegion[];
  readonly pages?: PageAllocatorOptions;
  readonly scheduler?: SchedulerOptions;
  /** Lines the CPU cache holds (default 32768 × 64 bytes). */
  readonly cacheLines?: number;
}

/** The `core` services of one machine, as registered in its container. */
export interface CoreServices {
  readonly memory: PhysicalMemory;
  readonly cache: CpuCache;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
  readonly sched: Scheduler;
  readonly mmio: MmioBus;
  readonly irqs: IrqController;
}

/** Builds the core services for one machine (usable without any container). */
export function createCoreServices(options: CoreOptions): CoreServices {
  const sched = new Scheduler(options.scheduler);
  const log = new KernelLog(() => sched.now);
  const memory = new PhysicalMemory(options.memory);
  const cache = new CpuCache(memory, options.cacheLines);
  const pages = new PageAllocator(options.memory, options.pages);
  const mmio = new MmioBus(log);
  const irqs = new IrqController(sched, log);
  return { memory, cache, pages, log, sched, mmio, irqs };
}

/** Registers a machine's core services into its container and returns them. */
export function register(container: DependencyContainer, options: CoreOptions): CoreServices {
  const s = createCoreServices(options);
  container.register(CoreTokens.PhysicalMemory, { useValue: s.memory });
  container.register(CoreTokens.CpuCache, { useValue: s.cache });
  container.register(CoreTokens.PageAllocator, { useValue: s.pages });
  container.register(CoreTokens.KernelLog, { useValue: s.log });
  container.register(CoreTokens.Scheduler, { useValue: s.sched });
  container.register(CoreTokens.MmioBus, { useValue: s.mmio });
  container.register(CoreTokens.IrqController, { useValue: s.irqs });
  return s;
}

/** Resolves the core services registered in a container. */
export function resolveCore(container: DependencyContainer): CoreServices {
  return {
    memory: container.resolve(CoreTokens.PhysicalMemory),
    cache: container.resolve(CoreTokens.CpuCache),
    pages: container.resolve(CoreTokens.PageAllocator),
    log: container.resolve(CoreTokens.KernelLog),
    sched: container.resolve(CoreTokens.Scheduler),
    mmio: container.resolve(CoreTokens.MmioBus),
    irqs: container.resolve(CoreTokens.IrqController),
  };
}
