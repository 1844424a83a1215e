// Measures the two maintained HDF5 readers on npm (jsfive, h5wasm) for what @gru/keras needs:
// start-up cost, reading a small Keras weights file, reading a large one, and surviving mutated
// files. h5wasm is not a dependency of @gru/keras, so run a copy of this script in a folder where
// both are installed (imports resolve next to the script):
//   mkdir /tmp/h5 && cd /tmp/h5 && npm init -y && npm i jsfive@0.4.2 h5wasm@0.10.3
//   cp <repo>/packages/keras/bench/hdf5-readers.mjs . && node hdf5-readers.mjs <repo>/conformance/cases/keras-3.15.1-saved/gru_small.weights.h5
// Each measurement runs in a fresh process (cold start), 3 times; medians are printed.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [, , small, mode, lib, file] = process.argv;

async function open(which) {
  const t0 = performance.now();
  if (which === 'jsfive') {
    const h = await import('jsfive');
    return {
      startMs: performance.now() - t0,
      read(bytes) {
        const f = new h.File(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        let n = 0;
        const walk = (g) => {
          void g.attrs;
          for (const k of g.keys) {
            const c = g.get(k);
            if (c instanceof h.Group) walk(c);
            else if (c) {
              void c.attrs;
              if (c.shape.reduce((a, b) => a * b, 1) < 5e7) n += Float32Array.from(c.value).length;
            }
          }
        };
        walk(f);
        return n;
      },
    };
  }
  const h = await import('h5wasm/node');
  const { FS } = await h.ready;
  let k = 0;
  return {
    startMs: performance.now() - t0,
    read(bytes) {
      const name = `/f${k++}.h5`;
      FS.writeFile(name, bytes);
      let f;
      try {
        f = new h.File(name, 'r');
        let n = 0;
        const walk = (g) => {
          void g.attrs;
          for (const key of g.keys()) {
            const c = g.get(key);
            if (c?.type === 'Group') walk(c);
            else if (c) {
              if (c.shape.reduce((a, b) => a * b, 1) < 5e7) n += c.value.length;
            }
          }
        };
        walk(f);
        return n;
      } finally {
        try {
          f?.close();
        } catch {}
        FS.unlink(name);
      }
    },
  };
}

function mutate(base, r) {
  const b = new Uint8Array(base);
  const k = r();
  if (k < 0.4) {
    for (let i = 0; i < 1 + Math.floor(r() * 8); i++) b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
    return b;
  }
  if (k < 0.7) {
    const p = Math.floor(r() * b.length);
    b.fill(0xff, p, p + 1 + Math.floor(r() * 8));
    return b;
  }
  return b.slice(0, Math.floor(r() * b.length));
}

if (mode === 'child') {
  const reader = await open(lib);
  const bytes = new Uint8Array(readFileSync(file));
  let t = performance.now();
  reader.read(bytes);
  const firstMs = performance.now() - t;
  t = performance.now();
  const reps = bytes.length > 1e6 ? 3 : 50;
  for (let i = 0; i < reps; i++) reader.read(bytes);
  const steadyMs = (performance.now() - t) / reps;
  let seed = 7;
  const r = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  let errors = 0,
    ok = 0,
    slowest = 0;
  if (bytes.length < 1e6) {
    for (let i = 0; i < 1000; i++) {
      const m = mutate(bytes, r);
      const s = performance.now();
      try {
        reader.read(m);
        ok++;
      } catch {
        errors++;
      }
      slowest = Math.max(slowest, performance.now() - s);
    }
  }
  console.log(JSON.stringify({ startMs: reader.startMs, firstMs, steadyMs, fuzz: { ok, errors, slowestMs: slowest } }));
} else {
  const self = fileURLToPath(import.meta.url);
  const big = '/tmp/hdf5-readers-big.h5';
  {
    // 25 MB: a GRU with 1024 units and 1024 inputs, written with h5wasm (float32, contiguous, as h5py writes it).
    const h = await import('h5wasm/node');
    const { FS } = await h.ready;
    const f = new h.File('/big.h5', 'w');
    let g = f;
    for (const part of ['layers', 'gru', 'cell', 'vars']) g = g.create_group(part) ?? g.get(part);
    const rand = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    g.create_dataset({ name: '0', data: rand(1024 * 3072), shape: [1024, 3072], dtype: '<f4' });
    g.create_dataset({ name: '1', data: rand(1024 * 3072), shape: [1024, 3072], dtype: '<f4' });
    g.create_dataset({ name: '2', data: rand(2 * 3072), shape: [2, 3072], dtype: '<f4' });
    f.close();
    writeFileSync(big, FS.readFile('/big.h5'));
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const which of ['jsfive', 'h5wasm']) {
    for (const [label, path] of [
      ['small', small],
      ['25 MB', big],
    ]) {
      const runs = [0, 1, 2].map(() =>
        JSON.parse(
          execFileSync(process.execPath, [self, small, 'child', which, path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 })
            .trim()
            .split('\n')
            .pop(),
        ),
      );
      const m = (key) => median(runs.map((x) => x[key])).toFixed(2);
      console.log(
        `${which.padEnd(7)} ${label.padEnd(6)} start ${m('startMs')} ms, first read ${m('firstMs')} ms, steady read ${m('steadyMs')} ms` +
          (label === 'small' ? `, fuzz ${JSON.stringify(runs[0].fuzz)}` : ''),
      );
    }
  }
}
