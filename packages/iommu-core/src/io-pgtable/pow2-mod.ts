/**
 * x mod m for a non-negative safe integer x and a power of two m (page and block sizes).
 *
 * Equal to `x % m`, but `%` on a number beyond 2^31 (any IOVA or physical address above 2 GiB) is a
 * floating-point remainder call in V8, and the map/unmap path asks this several times per page. The
 * division by a power of two is exact, so the floor and the product are too.
 */
export function modPow2(x: number, m: number): number {
  return x - Math.floor(x / m) * m;
}
