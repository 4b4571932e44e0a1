/** PCI configuration-space register offsets and values (include/uapi/linux/pci_regs.h). */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_CLASS_REVISION = 0x08;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_PRIMARY_BUS = 0x18;
export const PCI_SECONDARY_BUS = 0x19;
export const PCI_SUBORDINATE_BUS = 0x1a;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_INTERRUPT_LINE = 0x3c;

export const PCI_HEADER_TYPE_NORMAL = 0;
export const PCI_HEADER_TYPE_BRIDGE = 1;
export const PCI_HEADER_TYPE_MASK = 0x7f;
export const PCI_HEADER_TYPE_MFD = 0x80;

/** Class code (base class, subclass, prog-if) of a PCI-to-PCI bridge. */
export const PCI_CLASS_BRIDGE_PCI = 0x060400;

/** Size of a conventional configuration space. */
export const PCI_CFG_SPACE_SIZE = 256;

/** PCI_DEVFN(slot, func): the 8-bit device/function number. */
export function pciDevfn(slot: number, fn: number): number {
  return ((slot & 0x1f) << 3) | (fn & 0x07);
}

export function pciSlot(devfn: number): number {
  return (devfn >> 3) & 0x1f;
}

export function pciFunc(devfn: number): number {
  return devfn & 0x07;
}

/** PCI_DEVID: the 16-bit requester id (bus number, devfn) a function puts on its transactions. */
export function pciDevid(bus: number, devfn: number): number {
  return ((bus & 0xff) << 8) | (devfn & 0xff);
}

/** pci_name: `dddd:bb:ss.f`. */
export function pciName(domain: number, bus: number, devfn: number): string {
  const h = (v: number, w: number): string => v.toString(16).padStart(w, '0');
  return `${h(domain, 4)}:${h(bus, 2)}:${h(pciSlot(devfn), 2)}.${pciFunc(devfn)}`;
}

/** What a read of an absent function returns on the wire. */
export const PCI_CFG_ABSENT = 0xffffffff;
