import { xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/**
 * The seeded pseudo-random source of a machine. Every random choice in a simulation comes from here
 * (never Math.random), so the same seed gives the same run.
 */
export class Prng {
  private gen: RandomGenerator;

  constructor(readonly seed: number) {
    this.gen = xoroshiro128plus(seed);
  }

  /** A uniform integer in [0, n). */
  nextInt(n: number): number {
    if (!(n >= 1)) throw new RangeError(`nextInt: ${n}`);
    // rejection sampling on the generator's 32-bit output keeps the distribution exact
    const range = 2 ** 32;
    const limit = range - (range % n);
    for (;;) {
      const v = this.gen.unsafeNext() + 2 ** 31; // unsafeNext yields a signed 32-bit value
      if (v < limit) return v % n;
    }
  }

  /** A uniform float in [0, 1). */
  nextFloat(): number {
    return (this.gen.unsafeNext() + 2 ** 31) / 2 ** 32;
  }

  /** Fisher-Yates shuffle into a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}
