/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-explicit-any --
   the broken-board cases mutate an untyped copy of a board on purpose: that is what a broken file is. */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { builtinBoardJsonSchema } from '../machine/board-schema';

const EXAMPLES = resolve(import.meta.dirname, '../../../../examples');
const yamlFiles = (dir: string): string[] =>
  readdirSync(join(EXAMPLES, dir))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));
const boardFiles = [...yamlFiles('boards'), ...yamlFiles('scenarios')];

function validator(): (data: unknown) => boolean {
  const ajv = new Ajv({ allErrors: true });
  // read by editors (VS Code, yaml-language-server), ignored by validators
  ajv.addKeyword('enumDescriptions');
  ajv.addKeyword('errorMessage');
  return ajv.compile(builtinBoardJsonSchema());
}

describe('shipped JSON Schema', () => {
  it('is up to date with the zod schema (regenerate: pnpm --filter @dmasim/machine gen-schema)', () => {
    const shipped = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../board.schema.json'), 'utf8')) as unknown;
    expect(shipped).toEqual(builtinBoardJsonSchema());
  });

  it('is draft-07 with a stable id and the machine package exports it', () => {
    const s = builtinBoardJsonSchema();
    expect(s.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(s.$id).toMatch(/^urn:dmasim:board-schema:\d+$/);
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { exports: Record<string, string> };
    expect(pkg.exports['./board.schema.json']).toBe('./board.schema.json');
  });

  it('gives every key a description and an example', () => {
    const undocumented: string[] = [];
    const walk = (s: unknown, path: string): void => {
      if (typeof s !== 'object' || s === null) return;
      const o = s as Record<string, unknown>;
      for (const [k, sub] of Object.entries((o.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        const p = `${path}.${k}`;
        // the model enums of the `else` branches only narrow keys documented in the main schema
        if (!path.includes('allOf') && (typeof sub.description !== 'string' || !Array.isArray(sub.examples))) undocumented.push(p);
        walk(sub, p);
      }
      for (const key of ['items', 'anyOf', 'oneOf', 'allOf'] as const) {
        const v = o[key];
        if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}.${key}[${i}]`));
        else walk(v, `${path}.${key}`);
      }
    };
    walk(builtinBoardJsonSchema(), '');
    expect(undocumented).toEqual([]);
  });

  it('offers the compatibles and PCI ids of the built-in plugins, with descriptions', () => {
    const text = JSON.stringify(builtinBoardJsonSchema());
    for (const c of ['calxeda,hb-ahci', 'brcm,2711-v3d', 'arm,mmu-401', 'generic-ehci']) expect(text).toContain(`"${c}"`);
    expect(text).toMatch(/qemu-nvme model; workloads: nvme-io/);
  });

  const validate = validator();
  for (const file of boardFiles) {
    it(`accepts ${file}`, () => {
      const board = parse(readFileSync(join(EXAMPLES, file), 'utf8')) as unknown;
      const ok = validate(board);
      expect((validate as unknown as { errors: unknown }).errors ?? null, file).toBeNull();
      expect(ok).toBe(true);
    });
  }

  it('starts every example board with the yaml-language-server modeline', () => {
    for (const file of boardFiles) {
      const first = readFileSync(join(EXAMPLES, file), 'utf8').split('\n')[0];
      expect(first, file).toBe('# yaml-language-server: $schema=../../packages/machine/board.schema.json');
    }
  });

  /** A small complete board; each case breaks one thing in a copy of it. */
  const good = (): Record<string, any> => ({
    name: 'tiny',
    kernel: { arch: 'arm64', swiotlb: { size: '64MiB' } },
    memory: [{ base: 0, size: '512MiB' }],
    iommus: [{ name: 'smmu0', compatible: 'arm,mmu-401', base: '0x2b500000', contextBanks: 4, streamMatchRegisters: 32 }],
    buses: [{ name: 'soc', type: 'platform' }, { name: 'pcie0', type: 'pci', iommuMap: { iommu: 'smmu0' } }],
    devices: [
      { name: 'sata', compatible: 'calxeda,hb-ahci', bus: 'soc', base: '0xffe08000', iommus: [{ iommu: 'smmu0', streamIds: [0] }] },
      { name: 'nic', pci: { bdf: '01:00.0', vendor: 0x11ab, device: 0x4380 }, bus: 'pcie0' },
    ],
    workloads: [{ kind: 'disk-io', device: 'sata', requests: 10 }],
  });

  it('accepts the sound board the broken ones start from', () => {
    expect(validate(good())).toBe(true);
  });

  const broken: [string, (b: Record<string, any>) => void][] = [
    ['size "banana"', (b) => (b.memory[0].size = 'banana')],
    ['negative size', (b) => (b.memory[0].size = -1)],
    ['address in words', (b) => (b.devices[0].base = 'high')],
    ['unknown top-level key', (b) => (b.devics = [])],
    ['unknown device key', (b) => (b.devices[0].colour = 'red')],
    ['misspelt IOMMU key', (b) => (b.iommus[0].contextBank = 4)],
    ['no memory and no extends', (b) => delete b.memory],
    ['no buses and no extends', (b) => delete b.buses],
    ['device with no bus and no extends', (b) => delete b.devices[0].bus],
    ['unknown device compatible', (b) => (b.devices[0].compatible = 'calxeda,hb-achi')],
    ['unknown IOMMU compatible', (b) => (b.iommus[0].compatible = 'arm,smmu-v9')],
    ['unknown PCI id', (b) => (b.devices[1].pci.device = 0x1234)],
    ['PCI vendor and device of two models', (b) => (b.devices[1].pci = { bdf: '01:00.0', vendor: 0x11ab, device: 0x0010 })],
    ['malformed bdf', (b) => (b.devices[1].pci.bdf = '1:0')],
    ['bad arch', (b) => (b.kernel.arch = 'x86')],
    ['bad profile', (b) => (b.kernel.profile = 'linux-5')],
    ['stream id out of range', (b) => (b.devices[0].iommus[0].streamIds = [0x10000])],
    ['dma mask below a page', (b) => (b.devices[0].dmaMask = 8)],
    ['workload of no kind', (b) => (b.workloads[0].kind = 'gpu-burn')],
    ['name with a space', (b) => (b.buses[0].name = 'my soc')],
  ];
  it('has 20 broken boards', () => expect(broken).toHaveLength(20));
  for (const [what, mutate] of broken) {
    it(`refuses a board with ${what}`, () => {
      const b = good();
      mutate(b);
      expect(validate(b)).toBe(false);
    });
  }

  it('accepts an extending layer that leaves out what its base provides, and checks what it sets', () => {
    const layer = { extends: 'juno-r1', name: 'mine', devices: [{ name: 'sata', status: 'disabled' }], kernel: { profile: 'linux-6.x' } };
    expect(validate(layer)).toBe(true);
    expect(validate({ ...layer, kernel: { profile: 'linux-5' } })).toBe(false);
    expect(validate({ ...layer, devices: [{ status: 'disabled' }] })).toBe(false); // a named item needs its name
  });

  it('lets a board with plugins name models the built-in plugins do not have', () => {
    const b = good();
    b.devices[0].compatible = 'acme,widget';
    expect(validate(b)).toBe(false);
    expect(validate({ ...b, plugins: ['./acme.ts'] })).toBe(true);
  });
});
