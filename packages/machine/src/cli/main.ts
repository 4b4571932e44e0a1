#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { runCoreDemo } from './demo';

const program = new Command();
program.name('dmasim').description('A machine model of the Linux DMA stack: buses, SMMUs, IOVA, dma-iommu, swiotlb and devices.');

program
  .command('demo')
  .description('boot the example boards and print what happened (for now: the core demonstration)')
  .action(() => {
    runCoreDemo((l) => console.log(l));
  });

await program.parseAsync(process.argv);
