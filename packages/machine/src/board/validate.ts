import { hex } from '@dmasim/core';
import type { Board } from './schema';
import type { BoardIssue } from './errors';
import { iommuBoardEntry, type ModelCatalogue, pciIdKey } from './models';
import { suggestion } from './suggest';
import { validateLimits } from './limits';
import { overlapPairs, validateMmioWindows } from './mmio-windows';
import { validateProperties } from './properties';

/**
 * Checks what the schema cannot: references between parts, overlaps, duplicates, and limits of the
 * named models. Returns every issue found (empty when the board is sound).
 */
export interface ValidateOptions {
  /** Names of parts the schema refused: references to them are not reported a second time. */
  readonly unparsed?: ReadonlySet<string>;
}

export function validateBoard(board: Board, file: string, models: ModelCatalogue, options: ValidateOptions = {}): BoardIssue[] {
  const issues: BoardIssue[] = [];
  const add = (path: string, message: string, found?: string): void => {
    issues.push(found === undefined ? { file, path, message } : { file, path, message, found });
  };
  const unparsed = options.unparsed ?? new Set<string>();
  /** A reference to a name that is not on the board, with the closest name that is. */
  const missingRef = (path: string, what: string, name: string, candidates: Iterable<string>): void => {
    if (!unparsed.has(name)) add(path, `expected the name of ${what} on this board${suggestion(name, candidates)}`, JSON.stringify(name));
  };

  // ---- names ----------------------------------------------------------------------------------
  const seen = new Map<string, string>();
  const claim = (n: string, path: string): void => {
    const prev = seen.get(n);
    if (prev !== undefined) add(path, `duplicate name "${n}": already used at ${prev}; names of buses, IOMMUs and devices must be unique`);
    else seen.set(n, path);
  };
  board.buses.forEach((b, i) => claim(b.name, `buses[${i}].name`));
  board.iommus.forEach((m, i) => claim(m.name, `iommus[${i}].name`));
  board.devices.forEach((d, i) => claim(d.name, `devices[${i}].name`));

  const buses = new Map(board.buses.map((b) => [b.name, b]));
  const iommus = new Map(board.iommus.map((m) => [m.name, m]));
  const devices = new Map(board.devices.map((d) => [d.name, d]));

  // ---- memory ---------------------------------------------------------------------------------
  board.memory.forEach((m, i) => {
    if (m.size === 0) add(`memory[${i}].size`, 'expected a non-zero size', '0');
  });
  for (const [i, j] of overlapPairs(board.memory)) {
    const m = board.memory[i]!;
    const o = board.memory[j]!;
    add(`memory[${j}]`, `RAM region overlaps memory[${i}] (${hex(m.base)}-${hex(m.base + m.size - 1)})`, `${hex(o.base)}-${hex(o.base + o.size - 1)}`);
  }

  // ---- MMIO -----------------------------------------------------------------------------------
  for (const issue of validateMmioWindows(board, file, models)) issues.push(issue);

  // ---- IOMMUs ---------------------------------------------------------------------------------
  const streamOwners = new Map<string, { who: string; shared: boolean }>(); // "iommu:sid" → first claim
  const claimStream = (iommu: string, sid: number, who: string, path: string, shared = false): void => {
    const key = `${iommu}:${sid}`;
    const prev = streamOwners.get(key);
    if (prev === undefined) streamOwners.set(key, { who, shared });
    else if (prev.who !== who && !(prev.shared && shared)) {
      add(path, `stream id ${sid} on ${iommu} is already claimed by ${prev.who}; masters that really share a stream say "shared: true" in their iommus entries`, String(sid));
    }
  };
  board.iommus.forEach((m, i) => {
    const model = models.iommuCompatibles.get(m.compatible);
    if (model === undefined) {
      add(`iommus[${i}].compatible`, `unknown IOMMU model; expected one of ${[...models.iommuCompatibles.keys()].join(', ')}${suggestion(m.compatible, models.iommuCompatibles.keys())}`, JSON.stringify(m.compatible));
    } else {
      const entry = iommuBoardEntry(m);
      const ownKeys = model.boardKeys.map((k) => k.key);
      // a key the model does not have is most often a slip on one it has
      for (const p of model.checkBoardKeys(entry.keys, entry)) add(`iommus[${i}].${p.key}`, `${p.message}${ownKeys.includes(p.key) ? '' : suggestion(p.key, ownKeys)}`, p.found);
    }
    (m.masters ?? []).forEach((ms, j) => {
      if (!devices.has(ms.device)) missingRef(`iommus[${i}].masters[${j}].device`, 'a device', ms.device, devices.keys());
      ms.streamIds.forEach((sid, k) => claimStream(m.name, sid, ms.device, `iommus[${i}].masters[${j}].streamIds[${k}]`));
    });
  });

  // ---- buses ----------------------------------------------------------------------------------
  board.buses.forEach((b, i) => {
    if (b.parent !== undefined) {
      if (!buses.has(b.parent)) missingRef(`buses[${i}].parent`, 'a bus', b.parent, buses.keys());
      else {
        // a cycle of parents never reaches the root
        let cur: string | undefined = b.parent;
        const visited = new Set([b.name]);
        while (cur !== undefined) {
          if (visited.has(cur)) {
            add(`buses[${i}].parent`, `bus parents form a cycle through "${cur}"`, JSON.stringify(b.parent));
            break;
          }
          visited.add(cur);
          cur = buses.get(cur)?.parent;
        }
      }
    }
    if (b.iommuMap !== undefined) {
      if (b.type !== 'pci') add(`buses[${i}].iommuMap`, 'iommu-map applies to PCI buses only', b.type);
      if (!iommus.has(b.iommuMap.iommu)) missingRef(`buses[${i}].iommuMap.iommu`, 'an IOMMU', b.iommuMap.iommu, iommus.keys());
    }
    const ranges = b.dmaRanges ?? [];
    for (const [j, k] of overlapPairs(ranges.map((r) => ({ base: r.bus, size: r.size })))) add(`buses[${i}].dmaRanges[${k}]`, `bus addresses overlap dmaRanges[${j}]`, hex(ranges[k]!.bus));
    ranges.forEach((r, j) => {
      if (r.size === 0) add(`buses[${i}].dmaRanges[${j}].size`, 'expected a non-zero size', '0');
      // A child's dma-ranges CPU side is the parent's bus address space: it must be inside a parent window.
      const parent = b.parent !== undefined ? buses.get(b.parent) : undefined;
      if (parent?.dmaRanges !== undefined && parent.dmaRanges.length > 0) {
        const inside = parent.dmaRanges.some((p) => r.cpu >= p.bus && r.cpu + r.size <= p.bus + p.size);
        if (!inside) add(`buses[${i}].dmaRanges[${j}]`, `range ${hex(r.cpu)}-${hex(r.cpu + r.size - 1)} is outside every dma-ranges window of the parent bus "${parent.name}"`, hex(r.cpu));
      }
    });
  });

  // ---- devices --------------------------------------------------------------------------------
  const bdfs = new Map<string, string>();
  board.devices.forEach((d, i) => {
    const bus = buses.get(d.bus);
    if (bus === undefined) missingRef(`devices[${i}].bus`, 'a bus', d.bus, buses.keys());
    if (d.pci !== undefined && d.compatible !== undefined) add(`devices[${i}]`, 'a device has either "compatible" (platform/AMBA) or "pci", not both');
    if (d.pci === undefined && d.compatible === undefined) add(`devices[${i}]`, 'expected "compatible" (a DT compatible string) or "pci" (bdf, vendor, device)');
    if (bus?.type === 'pci' && d.pci === undefined) add(`devices[${i}].pci`, `a device on PCI bus "${bus.name}" needs a "pci" entry with its bdf, vendor and device ids`);
    if (bus !== undefined && bus.type !== 'pci' && d.pci !== undefined) add(`devices[${i}].bus`, `a PCI function must sit on a PCI bus; "${bus.name}" is ${bus.type}`);
    if (d.compatible !== undefined && !models.deviceCompatibles.has(d.compatible)) {
      add(`devices[${i}].compatible`, `unknown device model; expected one of ${[...models.deviceCompatibles.keys()].join(', ')}${suggestion(d.compatible, models.deviceCompatibles.keys())}`, JSON.stringify(d.compatible));
    }
    if (d.pci !== undefined) {
      const key = pciIdKey(d.pci.vendor, d.pci.device);
      if (!models.pciIds.has(key)) add(`devices[${i}].pci`, `unknown PCI device ${key}; expected one of ${[...models.pciIds.keys()].join(', ')}${suggestion(key, models.pciIds.keys())}`, key);
      const bdfKey = `${d.bus}/${d.pci.bdf.toLowerCase()}`;
      const prev = bdfs.get(bdfKey);
      if (prev !== undefined) add(`devices[${i}].pci.bdf`, `bdf ${d.pci.bdf} on ${d.bus} is already used by ${prev}`, d.pci.bdf);
      else bdfs.set(bdfKey, d.name);
    }
    if (bus !== undefined && bus.type !== 'pci' && d.base === undefined) add(`devices[${i}].base`, 'a platform or AMBA device needs the base address of its registers');
    (d.iommus ?? []).forEach((link, j) => {
      const target = iommus.get(link.iommu);
      if (target === undefined) missingRef(`devices[${i}].iommus[${j}].iommu`, 'an IOMMU', link.iommu, iommus.keys());
      const cells = target === undefined ? undefined : models.iommuCompatibles.get(target.compatible)?.iommuCells;
      // each id is one specifier of a one-cell binding; a zero-cell binding (one IOMMU per master) has none
      if (target !== undefined && cells === 0 && link.streamIds.length > 0) add(`devices[${i}].iommus[${j}].streamIds`, `a ${target.compatible} takes no ids (#iommu-cells = 0)`, JSON.stringify(link.streamIds));
      if (target !== undefined && cells !== undefined && cells > 0 && link.streamIds.length === 0) add(`devices[${i}].iommus[${j}].streamIds`, `expected at least one id for a ${target.compatible} (#iommu-cells = ${cells})`, '[]');
      link.streamIds.forEach((sid, k) => claimStream(link.iommu, sid, d.name, `devices[${i}].iommus[${j}].streamIds[${k}]`, link.shared));
    });
  });

  // ---- kernel ---------------------------------------------------------------------------------
  const order = board.kernel.probe.order;
  if (Array.isArray(order)) {
    order.forEach((n, i) => {
      if (!devices.has(n) && !iommus.has(n)) missingRef(`kernel.probe.order[${i}]`, 'a device or IOMMU', n, [...devices.keys(), ...iommus.keys()]);
    });
  }

  // ---- workloads ------------------------------------------------------------------------------
  const kindsOf = (devName: string): readonly string[] | undefined => {
    const d = devices.get(devName);
    if (d === undefined) return undefined;
    if (d.compatible !== undefined) return models.deviceCompatibles.get(d.compatible) ?? [];
    if (d.pci !== undefined) return models.pciIds.get(pciIdKey(d.pci.vendor, d.pci.device)) ?? [];
    return [];
  };
  board.workloads.forEach((w, i) => {
    // display-import is run by the consumer (the display); the producer only has to exist
    if (w.kind === 'display-import' && !devices.has(w.producer)) missingRef(`workloads[${i}].producer`, 'a device', w.producer, devices.keys());
    const refs: [string, string][] = w.kind === 'display-import' ? [['consumer', w.consumer]] : [['device', w.device]];
    for (const [key, devName] of refs) {
      const kinds = kindsOf(devName);
      if (kinds === undefined) missingRef(`workloads[${i}].${key}`, 'a device', devName, devices.keys());
      else if (!kinds.includes(w.kind)) add(`workloads[${i}].${key}`, `device "${devName}" cannot run a ${w.kind} workload`, JSON.stringify(devName));
    }
  });

  for (const issue of [...validateProperties(board, file), ...validateLimits(board, file)]) issues.push(issue);
  return issues;
}
