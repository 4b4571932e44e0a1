/**
 * Fixed-size sets of order indices, 32 per word: explanations test every candidate condition
 * against every order, so set operations have to be word-wide. (Bitwise operators here act on
 * 32-bit set words, never on addresses.)
 */
export class Bitset {
  readonly words: Uint32Array;

  constructor(readonly size: number, words?: Uint32Array) {
    this.words = words ?? new Uint32Array(Math.ceil(size / 32));
  }

  /** The set {0, ..., n - 1} in a bitset of `size`. */
  static prefix(size: number, n: number): Bitset {
    const b = new Bitset(size);
    const whole = Math.floor(n / 32);
    b.words.fill(0xffffffff, 0, whole);
    if (n % 32 !== 0) b.words[whole] = 2 ** (n % 32) - 1;
    return b;
  }

  set(i: number): void {
    const w = Math.floor(i / 32);
    this.words[w] = (this.words[w]! | (1 << i % 32)) >>> 0;
  }

  has(i: number): boolean {
    return ((this.words[Math.floor(i / 32)]! >>> i % 32) & 1) === 1;
  }

  count(): number {
    let n = 0;
    for (const w of this.words) n += popcount(w);
    return n;
  }

  isEmpty(): boolean {
    return this.words.every((w) => w === 0);
  }

  and(o: Bitset): Bitset {
    const out = new Uint32Array(this.words.length);
    for (let i = 0; i < out.length; i++) out[i] = this.words[i]! & o.words[i]!;
    return new Bitset(this.size, out);
  }

  andNot(o: Bitset): Bitset {
    const out = new Uint32Array(this.words.length);
    for (let i = 0; i < out.length; i++) out[i] = this.words[i]! & ~o.words[i]!;
    return new Bitset(this.size, out);
  }

  or(o: Bitset): Bitset {
    const out = new Uint32Array(this.words.length);
    for (let i = 0; i < out.length; i++) out[i] = this.words[i]! | o.words[i]!;
    return new Bitset(this.size, out);
  }

  /** |this ∩ o| without building the intersection. */
  andCount(o: Bitset): number {
    let n = 0;
    for (let i = 0; i < this.words.length; i++) n += popcount(this.words[i]! & o.words[i]!);
    return n;
  }

  /** |this ∖ o|. */
  andNotCount(o: Bitset): number {
    let n = 0;
    for (let i = 0; i < this.words.length; i++) n += popcount(this.words[i]! & ~o.words[i]!);
    return n;
  }

  equals(o: Bitset): boolean {
    return this.words.every((w, i) => w === o.words[i]);
  }

  /** The lowest member, or -1. */
  first(): number {
    for (let i = 0; i < this.words.length; i++) {
      const w = this.words[i]!;
      if (w !== 0) return i * 32 + (31 - Math.clz32(w & -w));
    }
    return -1;
  }
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
