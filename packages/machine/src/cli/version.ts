import { readFileSync } from 'node:fs';

/** The version of @dmasim/machine: src/cli/ and dist/cli/ both sit two levels under the package root. */
export function dmasimVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
