import type { IommuModel } from '@dmasim/iommu-core';
import { rockchipIommuModel } from '@dmasim/rockchip-iommu';
import { armSmmuModel } from '@dmasim/smmu';
import { armSmmuV3Model } from '@dmasim/smmu-v3';

/**
 * The IOMMU model plugins dmasim ships. This is the only place `@dmasim/machine` names an IOMMU
 * package: everything else reaches IOMMUs through the IommuModel interface.
 */
export const BUILTIN_IOMMU_MODELS: readonly IommuModel[] = [armSmmuModel, armSmmuV3Model, rockchipIommuModel];
