import {
  PCI_CFG_ABSENT,
  PCI_CFG_SPACE_SIZE,
  PCI_CLASS_BRIDGE_PCI,
  PCI_CLASS_REVISION,
  PCI_COMMAND,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_MFD,
  PCI_INTERRUPT_LINE,
  PCI_PRIMARY_BUS,
  PCI_SECONDARY_BUS,
  PCI_SUBORDINATE_BUS,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
  pciDevfn,
} from './config';

export interface PciFunctionSpec {
  readonly vendor: number;
  readonly device: number;
  /** 24-bit class code (base class, subclass, prog-if). */
  readonly classCode?: number;
  readonly revision?: number;
  readonly subsystemVendor?: number;
  readonly subsystem?: number;
}

/**
 * One PCI function as hardware: its configuration space with the read-only identity registers and
 * the few registers software writes during enumeration.
 */
export class PciFunctionHw {
  readonly config = new Uint8Array(PCI_CFG_SPACE_SIZE);
  private readonly writable = new Uint8Array(PCI_CFG_SPACE_SIZE);

  constructor(spec: PciFunctionSpec, headerType = 0) {
    this.put(PCI_VENDOR_ID, 2, spec.vendor);
    this.put(PCI_DEVICE_ID, 2, spec.device);
    this.put(PCI_CLASS_REVISION, 4, ((spec.classCode ?? 0) * 256 + (spec.revision ?? 0)) >>> 0);
    this.config[PCI_HEADER_TYPE] = headerType;
    if (headerType === 0) {
      this.put(PCI_SUBSYSTEM_VENDOR_ID, 2, spec.subsystemVendor ?? 0);
      this.put(PCI_SUBSYSTEM_ID, 2, spec.subsystem ?? 0);
    }
    this.writable.fill(0xff, PCI_COMMAND, PCI_COMMAND + 2);
    this.writable[PCI_INTERRUPT_LINE] = 0xff;
  }

  protected allowWrites(offset: number, len: number): void {
    this.writable.fill(0xff, offset, offset + len);
  }

  private put(offset: number, len: number, value: number): void {
    for (let i = 0; i < len; i++) this.config[offset + i] = (value >>> (8 * i)) & 0xff;
  }

  /** Little-endian read of 1, 2 or 4 bytes (config registers are 32-bit values). */
  read(offset: number, len: 1 | 2 | 4): number {
    let v = 0;
    for (let i = len - 1; i >= 0; i--) v = v * 256 + (this.config[offset + i] ?? 0xff);
    return v;
  }

  /** A write changes only the bits the register implements. */
  write(offset: number, len: 1 | 2 | 4, value: number): void {
    for (let i = 0; i < len; i++) {
      const at = offset + i;
      const mask = this.writable[at] ?? 0;
      const byte = (value >>> (8 * i)) & 0xff;
      this.config[at] = ((this.config[at]! & ~mask) | (byte & mask)) & 0xff;
    }
  }

  setMultiFunction(): void {
    this.config[PCI_HEADER_TYPE] = (this.config[PCI_HEADER_TYPE]! | PCI_HEADER_TYPE_MFD) & 0xff;
  }
}

/** The functions on one segment of wire (a bus, before software numbers it), by devfn. */
export class PciSegmentHw {
  readonly functions = new Map<number, PciFunctionHw>();

  /** Plugs a function in at slot/function; function 0 advertises multi-function when others exist. */
  attach(slot: number, fn: number, hw: PciFunctionHw): this {
    this.functions.set(pciDevfn(slot, fn), hw);
    if (fn !== 0) this.functions.get(pciDevfn(slot, 0))?.setMultiFunction();
    else if ([...this.functions.keys()].some((d) => d >> 3 === slot && (d & 7) !== 0)) hw.setMultiFunction();
    return this;
  }
}

/** A PCI-to-PCI bridge: a type-1 header whose bus-number registers route configuration cycles. */
export class PciBridgeHw extends PciFunctionHw {
  /** The wire behind the bridge. */
  readonly secondary = new PciSegmentHw();

  constructor(spec: Partial<PciFunctionSpec> & Pick<PciFunctionSpec, 'vendor' | 'device'>) {
    super({ classCode: PCI_CLASS_BRIDGE_PCI, ...spec }, PCI_HEADER_TYPE_BRIDGE);
    this.allowWrites(PCI_PRIMARY_BUS, 3);
  }

  get secondaryBus(): number {
    return this.config[PCI_SECONDARY_BUS]!;
  }

  get subordinateBus(): number {
    return this.config[PCI_SUBORDINATE_BUS]!;
  }
}

/**
 * The host bridge's configuration access: a cycle for bus `n` goes to the root segment when n is
 * the root bus number, else through the bridge whose secondary..subordinate range holds n, exactly
 * as type-1 cycles are forwarded. Nothing answers: all ones.
 */
export class PciHostBridgeHw {
  readonly root = new PciSegmentHw();

  constructor(readonly rootBusNr = 0) {}

  private segmentFor(bus: number): PciSegmentHw | null {
    if (bus === this.rootBusNr) return this.root;
    let seg: PciSegmentHw = this.root;
    for (;;) {
      let next: PciSegmentHw | null = null;
      for (const fn of seg.functions.values()) {
        if (!(fn instanceof PciBridgeHw) || fn.secondaryBus === 0) continue;
        if (bus === fn.secondaryBus) return fn.secondary;
        if (bus > fn.secondaryBus && bus <= fn.subordinateBus) {
          next = fn.secondary;
          break;
        }
      }
      if (next === null) return null;
      seg = next;
    }
  }

  private fn(bus: number, devfn: number): PciFunctionHw | undefined {
    return this.segmentFor(bus)?.functions.get(devfn);
  }

  configRead(bus: number, devfn: number, where: number, len: 1 | 2 | 4): number {
    const f = this.fn(bus, devfn);
    if (f === undefined) return len === 4 ? PCI_CFG_ABSENT : len === 2 ? 0xffff : 0xff;
    return f.read(where, len);
  }

  configWrite(bus: number, devfn: number, where: number, len: 1 | 2 | 4, value: number): void {
    this.fn(bus, devfn)?.write(where, len, value);
  }
}
