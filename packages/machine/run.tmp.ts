import 'reflect-metadata';
import { runBoard } from './src/index';
const { report } = await runBoard(process.argv[2] ?? 'generic-pcie');
console.log(JSON.stringify({ ...report, log: undefined }, null, 1)); console.log(report.log.join('\n'));
