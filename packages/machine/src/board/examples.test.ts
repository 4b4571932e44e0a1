import { describe, expect, it } from 'vitest';
import { exampleBoards, loadBoard } from './load';

describe('example boards', () => {
  it('ships the four example boards', () => {
    expect(exampleBoards()).toEqual(expect.arrayContaining(['calxeda-ecx2000', 'generic-pcie', 'juno-r1', 'rpi4']));
  });

  for (const name of exampleBoards()) {
    it(`${name} is a valid board`, async () => {
      const { board } = await loadBoard(name);
      expect(board.name).toBe(name);
    });
  }

  it('rpi4 puts the display behind the 1 GiB window and v3d on the wide bus', async () => {
    const { board } = await loadBoard('rpi4');
    const soc = board.buses.find((b) => b.name === 'soc');
    expect(soc?.dmaRanges).toEqual([{ bus: 0xc0000000, cpu: 0, size: 1024 ** 3 }]);
    expect(board.devices.find((d) => d.name === 'v3d')?.bus).toBe('scb');
    expect(board.iommus).toEqual([]);
  });
});
