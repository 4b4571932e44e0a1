import { describe, expect, it } from 'vitest';
import { readmeExample } from './readme';

const fence = '```';

describe('readmeExample', () => {
  it('takes the first ts block that an Output block follows', () => {
    const md = `# x\n\n${fence}sh\nnpm i\n${fence}\n\n${fence}ts\nconsole.log(1);\n${fence}\n\nOutput:\n\n${fence}\n1\n${fence}\n`;
    expect(readmeExample(md)).toEqual({ code: 'console.log(1);\n', output: '1\n' });
  });

  it('does not take a plain block that is not said to be the output', () => {
    const md = `${fence}ts\nconsole.log(1);\n${fence}\n\nRun it with:\n\n${fence}\nnode app.mjs\n${fence}\n`;
    expect(readmeExample(md)).toBeUndefined();
  });
});
