/** Small stand-ins for using and testing the IOMMU API without a bus package or an SMMU model. */
export { FakeBus } from './fake-bus';
export { FakeIommu, FakeDomain } from './fake-iommu';
export type { FakeIommuOptions } from './fake-iommu';
