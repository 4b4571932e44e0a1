import { describe, expect, it } from 'vitest';
import { xoroshiro128plus } from 'pure-rand';
import { Prng } from './prng';

const draws = (seed: number): number[] => {
  const p = new Prng(seed);
  return Array.from({ length: 8 }, () => p.nextInt(1_000_000));
};

describe('Prng seeds', () => {
  it('seeds below 2^32 give the sequence pure-rand gives them', () => {
    const g = xoroshiro128plus(12345);
    const p = new Prng(12345);
    for (let i = 0; i < 4; i++) expect(p.nextFloat()).toBe((g.unsafeNext() + 2 ** 31) / 2 ** 32);
  });

  it('seeds that agree in their low 32 bits still give different sequences, up to 2^53 - 1', () => {
    const seeds = [1, 2 ** 32 + 1, 2 ** 33 + 1, 2 ** 52 + 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 2 ** 32];
    const seen = new Set(seeds.map((s) => draws(s).join(',')));
    expect(seen.size).toBe(seeds.length);
    expect(draws(Number.MAX_SAFE_INTEGER)).toEqual(draws(Number.MAX_SAFE_INTEGER));
  });
});
