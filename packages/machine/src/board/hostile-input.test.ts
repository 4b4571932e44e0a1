/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   the hostile boards mutate an untyped copy of a board on purpose. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBoardWithPlugins } from '../machine/run';
import { BoardError, loadBoard, parseBoard } from './index';
import { MAX_BOARD_DEPTH, MAX_BOARD_FILE_BYTES } from './yaml-text';

/** Found by the board fuzzer (`pnpm fuzz machine.boards`): each input once threw a host exception. */

const dir = mkdtempSync(join(tmpdir(), 'dmasim-hostile-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function refusal(ref: string): Promise<string> {
  const e: unknown = await loadBoard(ref).then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BoardError);
  return (e as Error).message;
}

const tiny = 'name: tiny\nmemory: [{ base: 0, size: 1GiB }]\nbuses: [{ name: soc, type: platform }]\n';

describe('hostile YAML gives a BoardError naming the file', () => {
  it('an alias bomb (four levels of nine aliases) is refused, not expanded', async () => {
    const bomb = `${tiny}a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`;
    const p = file('bomb.yaml', bomb);
    expect(await refusal(p)).toMatch(new RegExp(`^${p}: invalid YAML: aliases expand beyond 100 nodes`));
  });

  it('an alias to an anchor never defined', async () => {
    expect(await refusal(file('alias.yaml', `${tiny}description: *nope\n`))).toMatch(/alias\.yaml: invalid YAML: an alias cannot be resolved/);
  });

  it('nesting deeper than a board in YAML and in JSON', async () => {
    const deep = `${'['.repeat(MAX_BOARD_DEPTH + 1)}${']'.repeat(MAX_BOARD_DEPTH + 1)}`;
    expect(await refusal(file('deep.yaml', `${tiny}description: ${deep}\n`))).toMatch(/deep\.yaml: nesting deeper than 64 levels/);
    expect(await refusal(file('deep.json', `{"name":"x","description":${deep}}`))).toMatch(/deep\.json: nesting deeper than 64 levels/);
    expect(await refusal(file('deeper.yaml', `${tiny}description: ${'['.repeat(5000)}${']'.repeat(5000)}\n`))).toMatch(/deeper\.yaml:4:\d+: invalid YAML: Maximum call stack/);
  });

  it('a file too large to be a board is refused before it is parsed', async () => {
    const p = file('huge.yaml', `${tiny}description: "${'x'.repeat(MAX_BOARD_FILE_BYTES)}"\n`);
    expect(await refusal(p)).toMatch(/huge\.yaml: the file is \d+ bytes; a board file is at most 8388608 bytes/);
  });

  it('a redefined anchor is legal YAML: the later definition wins', async () => {
    const { board } = await loadBoard(file('anchors.yaml', `name: &n first\ndescription: &n second\nmemory: [{ base: 0, size: 1GiB }]\nbuses: [{ name: *n, type: platform }]\n`));
    expect(board.buses[0]!.name).toBe('second');
  });
});

function boardWith(mutate: (b: Record<string, any>) => void): Record<string, any> {
  const b: Record<string, any> = {
    name: 'tiny',
    memory: [{ base: '0x80000000', size: '1GiB' }],
    buses: [{ name: 'soc', type: 'platform' }, { name: 'pcie0', type: 'pci' }],
    devices: [
      { name: 'ehci', compatible: 'generic-ehci', bus: 'soc', base: '0x7ff00000' },
      { name: 'ohci', compatible: 'generic-ohci', bus: 'soc', base: '0x7ff10000' },
      { name: 'nvme', pci: { bdf: '00:01.0', vendor: 0x1b36, device: 0x0010 }, bus: 'pcie0' },
    ],
  };
  mutate(b);
  return b;
}

function issues(mutate: (b: Record<string, any>) => void): string {
  try {
    parseBoard(boardWith(mutate), 'tiny.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(BoardError);
    return (e as Error).message;
  }
  throw new Error('expected the board to be refused');
}

describe('firmware properties of the wrong shape are refused at validation', () => {
  it.each([
    ['compatible', 5, /devices\[0\]\.properties\.compatible: the "compatible" property is written from the device's compatible key/],
    ['iommus', 1, /devices\[0\]\.properties\.iommus: the "iommus" property is written from the device's iommus key/],
    ['dma-coherent', 'yes', /properties\.dma-coherent: the "dma-coherent" property is written from the device's coherent key/],
    ['#iommu-cells', -1, /devices\[0\]\.properties\.#iommu-cells: expected a 32-bit cell .* \(found -1\)/],
    ['stream-match-mask', [1, 2], /properties\.stream-match-mask: expected a 32-bit cell .* \(found a list of 2\)/],
  ])('%s: %s', (key, value, expected) => {
    expect(issues((b) => (b.devices[0].properties = { [key]: value }))).toMatch(expected);
  });

  it('properties no firmware reader knows pass to the model', () => {
    expect(parseBoard(boardWith((b) => (b.devices[0].properties = { 'vendor,knob': 3 }))).board.devices[0]!.properties).toEqual({ 'vendor,knob': 3 });
  });
});

describe('register windows: validation knows each model window', () => {
  it('a platform device whose board size is smaller than its model window still overlaps its neighbour', () => {
    expect(issues((b) => Object.assign(b.devices[1], { base: '0x7ff00800', size: 0x100 }))).toMatch(/devices\[1\]\.base: MMIO range overlaps devices\[0\] \(0x7ff00000-0x7ff00fff\) \(found 0x7ff00800-0x7ff017ff\)/);
  });

  it('a PCI function BAR is placed at validation: RAM over the PCI window is an overlap naming both', () => {
    const msg = issues((b) => b.memory.push({ base: '0x4000000000', size: '1GiB' }));
    expect(msg).toMatch(/devices\[2\]\.base: MMIO range overlaps RAM memory\[1\] \(0x4000000000-0x403fffffff\) \(found 0x4000000000-0x4000001fff \(its PCI BAR 0\)\)/);
  });

  it('a board window over a PCI BAR', () => {
    expect(issues((b) => (b.devices[0].base = '0x4000001000'))).toMatch(/MMIO range overlaps devices\[0\] \(0x4000001000-0x4000001fff\) \(found 0x4000000000-0x4000001fff \(its PCI BAR 0\)\)/);
  });
});

describe('plugin modules', () => {
  it.each([
    ['null', 'export const deviceModels = [null];', /plugins\[0\]: deviceModels\[0\] of the plugin module: expected a DeviceModel object, found null/],
    ['no factory', 'export const deviceModels = [{ name: "x", compatibles: ["x,y"], workloads: [], drivers: () => [] }];', /model "x": expected "createHardware" to be a function/],
    ['bad ids', 'export const deviceModels = [{ name: "x", pciIds: [5], workloads: [] }];', /model "x": expected "pciIds" to be a list of "vvvv:dddd" ids/],
  ])('a module exporting a %s model is a BoardError naming the entry', async (_label, source, expected) => {
    const mod = file(`plugin-${_label.replace(/ /g, '-')}.mjs`, source);
    const board = file(`plugin-${_label.replace(/ /g, '-')}.yaml`, `${tiny}plugins: [${JSON.stringify(mod)}]\n`);
    const e: unknown = await loadBoardWithPlugins(board).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(BoardError);
    expect((e as Error).message).toMatch(expected);
  });
});

describe('bounded work: a board cannot ask for hours of simulation', () => {
  it.each([
    ['2^32 packets', (b: Record<string, any>) => b.workloads.push({ kind: 'dma-selftest', device: 'ehci', rounds: 2 ** 32 }), /workloads\[0\]: at most 200,000 DMA transfers .* \(found 4294967296\)/],
    ['2^53 requests', (b: Record<string, any>) => b.workloads.push({ kind: 'nvme-io', device: 'nvme', requests: 2 ** 53 - 1 }), /workloads\[0\]: at most 200,000 DMA transfers/],
    ['16 GiB blocks', (b: Record<string, any>) => b.workloads.push({ kind: 'nvme-io', device: 'nvme', requests: 10, blockSize: '16GiB' }), /workloads\[0\]\.blockSize: at most 256 MiB/],
    ['256 TiB of RAM', (b: Record<string, any>) => (b.memory = [{ base: 0, size: '256TiB' }]), /memory: at most 1024 GiB of RAM in total/],
    ['1,100 devices', (b: Record<string, any>) => b.devices.push(...Array.from({ length: 1100 }, (_, i) => ({ name: `e${i}`, compatible: 'generic-ehci', bus: 'soc', base: 0x10000000 + i * 0x1000 }))), /devices: at most 1024 devices, IOMMUs and buses together/],
    ['two workloads over the budget together', (b: Record<string, any>) => b.workloads.push({ kind: 'nvme-io', device: 'nvme', requests: 65536 }, { kind: 'dma-selftest', device: 'ehci', rounds: 150_000 }), /workloads: at most 200,000 DMA transfers for all workloads together .* \(found 215536\)/],
  ])('%s is refused', (_label, mutate, expected) => {
    expect(issues((b) => {
      b.workloads ??= [];
      mutate(b);
    })).toMatch(expected);
  });

  it('a thousand copies of one RAM region give one issue per copy, quickly', () => {
    const msg = issues((b) => (b.memory = Array.from({ length: 1000 }, () => ({ base: '0x80000000', size: '1GiB' }))));
    expect(msg).toMatch(/memory\[1\]: RAM region overlaps memory\[0\]/);
    expect(msg).toMatch(/\.\.\. and 949 more problems$/);
  });
});
