export * from './iova';
export * from './io-pgtable';
export * from './iommu';
// io-pgtable declares the slice of iommu_iotlb_gather it reads; the IOMMU API's class is the full one.
export { IommuIotlbGather } from './iommu';
export * from './model/iommu-model';
export * from './model/model-test-rig';
