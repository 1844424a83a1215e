import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { getConstraint } from '../src/constraints.js';

test('bit-exact vs keras', () => {
  const cases = JSON.parse(readFileSync('/tmp/gruchk/cons.json', 'utf8'));
  const bad: string[] = [];
  for (const c of cases) {
    const con = getConstraint({ class_name: c.cls, config: c.config })!;
    const data = c.dtype === 'float32' ? Float32Array.from(c.w) : Float64Array.from(c.w);
    const out = con.apply(data, c.shape);
    let maxd = 0, nd = 0;
    for (let i = 0; i < out.length; i++) { const d = Math.abs(out[i] - c.out[i]); if (d > 0) nd++; maxd = Math.max(maxd, d); }
    if (nd > 0) bad.push(`${c.cls} ${c.dtype} ${JSON.stringify(c.shape)} axis=${JSON.stringify(c.config.axis)} ndiff=${nd} max=${maxd}`);
  }
  console.log(bad.length + ' bad of ' + cases.length + '\n' + bad.slice(0, 40).join('\n'));
  expect(bad.length).toBe(0);
});
