import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { configDefaults } from 'vitest/config';
import { describe, expect, it } from 'vitest';
import asanConfig from '../vitest.asan.config.js';
import mainConfig from '../vitest.config.js';

// The exhaustive activation sweep builds and runs its own binary, which is not instrumented: under
// the AddressSanitizer run it would only repeat the ~8 minute sweep the plain run already did.
const SWEEP = 'test/activations-accuracy.test.ts';

describe('vitest configurations', () => {
  it('the AddressSanitizer run leaves out the activation sweep and keeps vitest’s default exclusions', () => {
    expect(existsSync(join(__dirname, '..', SWEEP))).toBe(true);
    expect(asanConfig.test?.exclude).toContain(SWEEP);
    for (const pattern of configDefaults.exclude) expect(asanConfig.test?.exclude).toContain(pattern);
  });

  it('the plain run (the `test` script, once in CI) still runs the sweep', () => {
    expect(mainConfig.test?.include).toContain('test/**/*.test.ts');
    expect(mainConfig.test?.exclude ?? []).not.toContain(SWEEP);
  });
});
