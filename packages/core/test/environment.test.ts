import { afterEach, describe, expect, it } from 'vitest';
import { environmentVariable } from '../src/index.js';

const proc = globalThis.process as unknown as { env: unknown };
const realEnv = proc.env;

afterEach(() => {
  proc.env = realEnv;
});

describe('environmentVariable', () => {
  it('reads a set variable, and undefined for an unset one', () => {
    process.env.GRU_TEST_ENVIRONMENT_VARIABLE = 'x';
    try {
      expect(environmentVariable('GRU_TEST_ENVIRONMENT_VARIABLE')).toBe('x');
    } finally {
      delete process.env.GRU_TEST_ENVIRONMENT_VARIABLE;
    }
    expect(environmentVariable('GRU_TEST_ENVIRONMENT_VARIABLE')).toBeUndefined();
  });

  it('is undefined where reading the environment is refused, as Deno does without --allow-env', () => {
    // Deno's process.env throws NotCapable on every read without the permission.
    proc.env = new Proxy(
      {},
      {
        get() {
          throw Object.assign(new Error('Requires env access to "GRU_CPU_THREADS", run again with the --allow-env flag'), { name: 'NotCapable' });
        },
      },
    );
    expect(environmentVariable('GRU_CPU_THREADS')).toBeUndefined();
  });

  it('is undefined where there is no process environment', () => {
    proc.env = undefined;
    expect(environmentVariable('PATH')).toBeUndefined();
  });
});
