/**
 * Linux errno values. Kernel-level calls in dmasim return these negated, as the kernel does
 * (`-ENOMEM`), and never throw for conditions the kernel tolerates.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ERANGE = 34;
export const ENOSYS = 38;
export const EOPNOTSUPP = 95;
export const ETIMEDOUT = 110;
export const EPROBE_DEFER = 517;

const NAMES: Record<number, string> = {
  [EPERM]: 'EPERM', [ENOENT]: 'ENOENT', [EIO]: 'EIO', [ENXIO]: 'ENXIO', [E2BIG]: 'E2BIG', [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM', [EACCES]: 'EACCES', [EFAULT]: 'EFAULT', [EBUSY]: 'EBUSY', [EEXIST]: 'EEXIST',
  [ENODEV]: 'ENODEV', [EINVAL]: 'EINVAL', [ENOSPC]: 'ENOSPC', [ERANGE]: 'ERANGE', [ENOSYS]: 'ENOSYS',
  [EOPNOTSUPP]: 'EOPNOTSUPP', [ETIMEDOUT]: 'ETIMEDOUT', [EPROBE_DEFER]: 'EPROBE_DEFER',
};

/** `-ENOSPC` → `"ENOSPC"`; accepts either sign. */
export function errnoName(err: number): string {
  return NAMES[Math.abs(err)] ?? `E${Math.abs(err)}`;
}

/** The kernel's IS_ERR_VALUE-style check for a returned int. */
export function isErr(ret: number): boolean {
  return ret < 0;
}
