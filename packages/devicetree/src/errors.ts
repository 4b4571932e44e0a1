/**
 * A device tree that cannot be used: names the file, the node path (or the blob offset) and what
 * was expected. Thrown by the parser and by the of_* readers for trees the kernel would reject or
 * misread; never for conditions the kernel tolerates.
 */
export class DtError extends Error {
  constructor(
    readonly file: string,
    /** Node path (`/soc/iommu@2b500000`), or `header` / `offset 0x…` for blob structure. */
    readonly where: string,
    readonly detail: string,
  ) {
    super(`${file}: ${where}: ${detail}`);
    this.name = 'DtError';
  }
}
