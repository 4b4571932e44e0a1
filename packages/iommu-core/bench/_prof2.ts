import { IovaTree } from '../src/iova/iova-tree';
class R { constructor(public pfnLo: number, public pfnHi: number) {} }
for (const live of [1000, 1000000]) {
  const t0 = new IovaTree<R>(new R(0, 0));
  t0.insert(new R(2 ** 53 - 1, 2 ** 53 - 1));
  let p = 2 ** 36;
  for (let i = 0; i < live; i++) { p--; t0.insert(new R(p, p)); }
  const N = 2_000_000;
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) { t0.insert(new R(p - 1, p - 1)); t0.remove(p - 1); }
    console.log(live, (Number(process.hrtime.bigint() - t) / N).toFixed(1), 'ns/insert+remove');
    const t2 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) { t0.ceil(p + (i % 1000)); t0.cursorPrev(); }
    console.log(live, (Number(process.hrtime.bigint() - t2) / N).toFixed(1), 'ns/ceil+prev');
  }
}
