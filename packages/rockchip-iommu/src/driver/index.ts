export * from './domain';
export * from './printk';
export * from './rk-iommu-device';
export * from './rk-iommu';
