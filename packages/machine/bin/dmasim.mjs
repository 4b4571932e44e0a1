#!/usr/bin/env node
// The `dmasim` command: runs the built CLI. In a clone of the repository, `pnpm install` builds it.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('dmasim: the CLI is not built (no dist/cli/main.js); run `npx -y pnpm@10.34.8 build` in the repository\n');
  process.exit(1);
}
await import(main.href);
