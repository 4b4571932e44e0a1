import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DtError } from './errors';
import { parseFdt } from './fdt';
import { ofPropertyCells, ofPropertyStrings } from './props';
import { findNodeByPath, walk, writeU32, type DtTree } from './tree';
import { serializeFdt } from './write';
import { fixture, fixtureBytes } from './test-helpers';

/** A tree as plain data: paths with their properties, in order. */
function shape(t: DtTree): [string, [string, number[]][]][] {
  return [...walk(t.root)].map((n) => [n.path, [...n.props].map(([k, v]) => [k, [...v]] as [string, number[]])]);
}

describe('parseFdt on a dtc-compiled blob', () => {
  const t = fixture('mini');

  it('reads nodes, properties, the reservation map and phandles as dtc wrote them', () => {
    expect(t.reservations).toEqual([{ address: 0x80000000, size: 0x10000 }]);
    expect(ofPropertyStrings(t, t.root, 'compatible')).toEqual(['dmasim,mini']);
    const hvs = findNodeByPath(t, '/soc/hvs@7e400000')!;
    expect(ofPropertyCells(t, hvs, 'reg')).toEqual([0x7e400000, 0x8000]);
    const ohci = findNodeByPath(t, '/usb@7ffb0000')!;
    const [phandle] = ofPropertyCells(t, ohci, 'iommus')!;
    expect(t.phandles.get(phandle!)?.path).toBe('/iommu@7fb30000');
  });

  it('serializes back to a blob that parses to the same tree', () => {
    const again = parseFdt(serializeFdt(t), 'again.dtb');
    expect(shape(again)).toEqual(shape(t));
    expect(again.reservations).toEqual(t.reservations);
  });
});

describe('bad blobs are errors naming the file and where', () => {
  const good = fixtureBytes('mini');
  const patched = (at: number, v: number): Uint8Array => {
    const b = good.slice();
    writeU32(b, at, v);
    return b;
  };

  it('bad magic', () => {
    expect(() => parseFdt(patched(0, 0x12345678), 'x.dtb')).toThrow(/^x\.dtb: header: bad magic 0x12345678, expected 0xd00dfeed/);
  });
  it('truncated blob', () => {
    expect(() => parseFdt(good.slice(0, 200), 'cut.dtb')).toThrow(/cut\.dtb: header: totalsize \d+ is beyond the 200 bytes/);
    expect(() => parseFdt(good.slice(0, 20), 'cut.dtb')).toThrow(/shorter than the 40-byte FDT header/);
  });
  it('a structure block pointing outside the blob', () => {
    expect(() => parseFdt(patched(8, 0x7fffff00), 'off.dtb')).toThrow(/off\.dtb: header: structure block .* is outside/);
  });
  it('a property name offset outside the strings block', () => {
    // the root's first property follows its begin token and empty name: token, len, nameoff
    const offStruct = good[8]! * 0x1000000 + good[9]! * 0x10000 + good[10]! * 0x100 + good[11]!;
    expect(() => parseFdt(patched(offStruct + 16, 0xffff), 'str.dtb')).toThrow(/str\.dtb: \/: property name offset 65535 is outside/);
  });
  it('duplicate phandles', () => {
    const t = fixture('mini');
    const a = findNodeByPath(t, '/iommu@7fb30000')!;
    const b = findNodeByPath(t, '/iommu@2b500000')!;
    b.props.set('phandle', a.props.get('phandle')!);
    expect(() => parseFdt(serializeFdt(t), 'dup.dtb')).toThrow(/dup\.dtb: \/iommu@2b500000: phandle 0x\w+ is already used by \/iommu@7fb30000/);
  });

  it('never throws anything but DtError, whatever the bytes (fuzzed)', () => {
    const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(good.length)).map(([edits, cut]) => {
      const b = good.slice(0, Math.max(cut, 40));
      for (const [at, v] of edits) if (at < b.length) b[at] = v;
      return b;
    });
    const anyBytes = fc.uint8Array({ maxLength: 256 }).map((b) => {
      const out = new Uint8Array(b.length + 40);
      writeU32(out, 0, 0xd00dfeed);
      writeU32(out, 4, out.length);
      out.set(b, 40);
      return out;
    });
    fc.assert(
      fc.property(fc.oneof(mutated, anyBytes), (bytes) => {
        try {
          parseFdt(bytes, 'fuzz.dtb');
        } catch (e) {
          if (!(e instanceof DtError)) throw e;
          expect(e.message.startsWith('fuzz.dtb: ')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
