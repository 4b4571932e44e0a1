#!/usr/bin/env node
import { dmasimVersion } from './version';

const argv = process.argv.slice(2);
// `pnpm dmasim` runs in the repository root: resolve paths against the directory it was typed in.
if (process.env.npm_lifecycle_event === 'dmasim' && process.env.INIT_CWD !== undefined) process.chdir(process.env.INIT_CWD);

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // Answered before the simulator's modules load: they are most of a run's start-up time.
  process.stdout.write(`${dmasimVersion()}\n`);
} else {
  await import('reflect-metadata');
  const { buildProgram } = await import('./program');
  const code = await buildProgram({ out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), isTTY: process.stderr.isTTY }).run(argv);
  process.exitCode = code;
}
