import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { getLanguageService } from 'yaml-language-server/lib/umd/languageservice/yamlLanguageService.js';
import { describe, expect, it } from 'vitest';

/**
 * The board files as VS Code's YAML extension sees them: its language server, reading the schema
 * from each file's `# yaml-language-server: $schema=...` modeline.
 */
const EXAMPLES = resolve(import.meta.dirname, '../../../../examples');
const service = getLanguageService({
  schemaRequestService: (uri: string) => Promise.resolve(readFileSync(fileURLToPath(uri), 'utf8')),
  workspaceContext: { resolveRelativePath: (rel: string, res: string) => pathToFileURL(resolve(dirname(fileURLToPath(res)), rel)).href },
});
service.configure({ validate: true, completion: true, hover: true, yamlVersion: '1.2' });

const MODELINE = '# yaml-language-server: $schema=../../packages/machine/board.schema.json\n';
let version = 0;
/** A document beside the examples (so the modeline resolves); a new uri each time (the server caches by uri). */
const doc = (text: string): TextDocument => TextDocument.create(pathToFileURL(join(EXAMPLES, 'scenarios', `probe-${++version}.yaml`)).href, 'yaml', 1, text);
const diagnostics = async (text: string): Promise<string[]> => (await service.doValidation(doc(text), false)).map((d) => `${d.range.start.line + 1}: ${d.message}`);

const BOARD = `${MODELINE}name: x\nmemory: [{ base: 0, size: 1GiB }]\nbuses: [{ name: soc, type: platform }]\ndevices:\n  - name: d\n    bus: soc\n`;

describe('in the editor (yaml-language-server)', () => {
  it('shows no problem in any example board or scenario', async () => {
    for (const dir of ['boards', 'scenarios']) {
      for (const f of readdirSync(join(EXAMPLES, dir)).filter((x) => x.endsWith('.yaml'))) {
        const text = readFileSync(join(EXAMPLES, dir, f), 'utf8');
        const found = await service.doValidation(TextDocument.create(pathToFileURL(join(EXAMPLES, dir, f)).href, 'yaml', 1, text), false);
        expect(found.map((d) => d.message), `${dir}/${f}`).toEqual([]);
      }
    }
  });

  it('completes a compatible with the models dmasim has, each described', async () => {
    const text = `${BOARD}    compatible: \n`;
    const list = await service.doComplete(doc(text), { line: 7, character: 16 }, false);
    const items = new Map(list.items.map((i) => [i.label, typeof i.documentation === 'string' ? i.documentation : (i.documentation?.value ?? '')]));
    expect(items.get('calxeda,hb-ahci')).toMatch(/calxeda-sata model; workloads: disk-io/);
    expect([...items.keys()]).toEqual(expect.arrayContaining(['generic-ehci', 'brcm,2711-v3d', 'calxeda,hb-xgmac']));
  });

  it('shows the description and an example on hover', async () => {
    const hover = await service.doHover(doc(BOARD), { line: 6, character: 5 });
    expect(JSON.stringify(hover?.contents)).toMatch(/the name of the bus the device sits on.*Example/);
  });

  it('flags a size that is not one, an unknown key, a misnamed model and a value below its minimum', async () => {
    expect(await diagnostics(`${BOARD}    compatible: generic-ehci\n    base: 0x7ff00000\n    size: banana\n`)).toEqual(['10: expected a size: a byte count or a string such as "512KiB", "64MiB", "4GiB"']);
    expect(await diagnostics(`${BOARD}    compatible: generic-ehci\n    base: 0x7ff00000\n    colour: red\n`)).toEqual(['10: Property colour is not allowed.']);
    expect((await diagnostics(`${BOARD}    compatible: calxeda,hb-achi\n    base: 0x7ff00000\n`))[0]).toMatch(/^8: Value is not accepted\. Valid values: .*"calxeda,hb-ahci"/);
    expect(await diagnostics(`${MODELINE}extends: juno-r1\nname: y\ndevices:\n  - { name: sata, dmaMask: 8 }\n`)).toEqual(['5: Value is below the minimum of 12.']);
  });
});
