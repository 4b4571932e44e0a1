/** Sector size of the simulated disks. */
export const SECTOR_SIZE = 512;

/**
 * A sparse backing store: only written sectors hold bytes; unwritten ones read as zeros. Disks of
 * terabytes cost nothing until written.
 */
export class SparseDisk {
  private readonly sectors = new Map<number, Uint8Array>();

  constructor(readonly sectorCount: number) {}

  get writtenSectors(): number {
    return this.sectors.size;
  }

  inRange(lba: number, count: number): boolean {
    return lba >= 0 && count >= 0 && lba + count <= this.sectorCount;
  }

  read(lba: number, dst: Uint8Array): void {
    const n = Math.ceil(dst.length / SECTOR_SIZE);
    for (let i = 0; i < n; i++) {
      const s = this.sectors.get(lba + i);
      const part = dst.subarray(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE);
      if (s === undefined) part.fill(0);
      else part.set(s.subarray(0, part.length));
    }
  }

  write(lba: number, src: Uint8Array): void {
    const n = Math.ceil(src.length / SECTOR_SIZE);
    for (let i = 0; i < n; i++) {
      const s = new Uint8Array(SECTOR_SIZE);
      s.set(src.subarray(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE));
      this.sectors.set(lba + i, s);
    }
  }
}
