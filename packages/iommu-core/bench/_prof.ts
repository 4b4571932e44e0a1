import { IovaDomain } from '../src/iova/index';
const LIMIT = 2 ** 36 - 1;
for (const live of [1000, 100000, 1000000]) {
  const d = new IovaDomain(4096, 1, { rcaches: false });
  for (let i = 0; i < live; i++) d.allocIova(1, LIMIT, false);
  const N = 1_000_000;
  for (let r = 0; r < 3; r++) {
    let t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) { const a = d.allocIova(1, LIMIT, false); d.__freeIova(a!); }
    const ns = Number(process.hrtime.bigint() - t) / N;
    console.log(live, ns.toFixed(1), 'ns/pair');
  }
}
