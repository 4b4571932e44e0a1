#!/usr/bin/env node
import 'reflect-metadata';
import { buildProgram } from './program';

const code = await buildProgram({ out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), isTTY: process.stderr.isTTY }).run(process.argv.slice(2));
process.exitCode = code;
