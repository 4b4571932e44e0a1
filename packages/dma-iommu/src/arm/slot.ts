import { Slot } from '@dmasim/bus';
import type { DmaIommuMapping } from './mapping';

/** dev->archdata.mapping: the arm IOMMU mapping a device is attached to. */
export const ARM_IOMMU_MAPPING_SLOT = new Slot<DmaIommuMapping>('dma-iommu.arm.mapping');
