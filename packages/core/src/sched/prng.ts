import { xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/**
 * The generator for a seed. pure-rand seeds from 32 bits only, so seeds at or above 2^32 put their
 * high part (up to 2^21 for a safe integer) into a state word the 32-bit seeding leaves zero: every
 * safe integer seed gets its own sequence, and seeds below 2^32 keep the sequence they always had.
 */
function generatorOf(seed: number): RandomGenerator {
  const high = seed >= 2 ** 32 ? Math.floor(seed / 2 ** 32) : 0;
  if (high === 0) return xoroshiro128plus(seed);
  const low = seed - high * 2 ** 32;
  return xoroshiro128plus.fromState([-1, ~low, low | 0, high]);
}

/**
 * The seeded pseudo-random source of a machine. Every random choice in a simulation comes from here
 * (never Math.random), so the same seed gives the same run.
 */
export class Prng {
  private gen: RandomGenerator;

  constructor(readonly seed: number) {
    this.gen = generatorOf(seed);
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
