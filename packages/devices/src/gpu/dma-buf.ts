import type { Device } from '@dmasim/bus';

/**
 * A shared buffer as dma-buf hands it between drivers (struct dma_buf, reduced to what importers
 * use here): the exporter's pages. The importer builds its own scatterlist from them and maps it for
 * its own device, as drm_gem_map_dma_buf does through drm_prime_pages_to_sg.
 */
export interface DmaBuf {
  /** Bytes of the buffer. */
  readonly size: number;
  /** Physical address of each page, in buffer order. */
  readonly pages: readonly number[];
  readonly exporter: Device;
  /** The exporter's name for it (`v3d-bo-3`). */
  readonly name: string;
}
