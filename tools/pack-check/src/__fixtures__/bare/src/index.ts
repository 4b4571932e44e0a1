import { Bench } from 'tinybench';

export const bench = new Bench();
