import { KNOWN_PROPERTIES, propertyShapeOk } from '@dmasim/bus';
import type { Board } from './schema';
import type { BoardIssue } from './errors';
import { describeValue } from './errors';

/** Firmware properties the board format writes from its own keys: `properties` may not set them. */
const FROM_BOARD_KEYS: Readonly<Record<string, string>> = {
  compatible: 'compatible',
  reg: 'base and size',
  interrupts: 'irq',
  iommus: 'iommus',
  'mmu-masters': 'iommus[].masters of the IOMMU',
  'dma-ranges': 'dmaRanges of the bus',
  'dma-coherent': 'coherent',
  'iommu-map': 'iommuMap of the PCI bus',
  'iommu-map-mask': 'iommuMap.mask of the PCI bus',
  status: 'status',
};

/**
 * `devices[].properties` carries extra firmware properties. The properties the DMA stack reads
 * come from the board's own keys (a second source would silently win or lose), and any other
 * property a firmware reader knows must have the shape that reader expects (a u32, a cell list).
 */
export function validateProperties(board: Board, file: string): BoardIssue[] {
  const issues: BoardIssue[] = [];
  board.devices.forEach((d, i) => {
    for (const [key, value] of Object.entries(d.properties ?? {})) {
      const path = `devices[${i}].properties.${key}`;
      const boardKey = FROM_BOARD_KEYS[key];
      if (boardKey !== undefined) {
        issues.push({ file, path, message: `the "${key}" property is written from the device's ${boardKey} key; set that instead`, found: describeValue(value) });
      } else if (KNOWN_PROPERTIES.includes(key) && !propertyShapeOk(key, value)) {
        issues.push({ file, path, message: `expected a 32-bit cell (a number 0 to 0xffffffff) for "${key}"`, found: describeValue(value) });
      }
    }
  });
  return issues;
}
