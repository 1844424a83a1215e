import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The thread pool and its phase protocol, tested natively (native/test/thread_pool_test.cc):
// threads lagging phases behind, several callers racing for the pool, late joiners; every chunk
// must run exactly once. Built with ThreadSanitizer when g++ has it, so data races fail too.
const native = fileURLToPath(new URL('../native/', import.meta.url));

function hasTsan(): boolean {
  try {
    const lib = execFileSync('g++', ['-print-file-name=libtsan.so'], { encoding: 'utf8' }).trim();
    return lib.startsWith('/') && existsSync(lib);
  } catch {
    return false;
  }
}

describe('thread pool and phases (native stress test)', () => {
  it('runs every chunk exactly once, with no data race', () => {
    const tsan = hasTsan();
    const exe = join(mkdtempSync(join(tmpdir(), 'gru-cpu-pool-')), 'thread_pool_test');
    execFileSync('g++', [
      '-std=gnu++20',
      '-O1',
      '-g',
      '-pthread',
      ...(tsan ? ['-fsanitize=thread'] : []),
      join(native, 'test', 'thread_pool_test.cc'),
      join(native, 'thread_pool.cc'),
      '-o',
      exe,
    ]);
    // Not under the AddressSanitizer run's preloaded runtime: this binary brings its own.
    const env = { ...process.env, LD_PRELOAD: '', TSAN_OPTIONS: 'halt_on_error=1:exitcode=66' };
    // Arguments: jobs per caller, late-joiner rounds, users coming and going, jobs on one Phaser,
    // and the binary's own hang watch in seconds (under spawnSync's limit, so a hang says so).
    const r = spawnSync(exe, ['200', '600', '200', '600', '480'], { env, encoding: 'utf8', timeout: 540_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ok: alone, late joiners, one Phaser for many jobs, and 3 callers x 200 jobs/);
  }, 600_000);
});
