// Run under Node, Bun and Deno by test/runtimes.test.ts: the packages as installed from the
// tarballs, cpu (the Node-API addon), wasm on one thread and on two worker threads (the plain
// SIMD build: relaxed SIMD rounds differently where an engine fuses it), and automatic selection.
// Prints each output's float32 bits as a hash, to be compared across runtimes bit for bit.
import { GRU, registerBackend } from '@gru/core';
import '@gru/cpu';
import { createWasmBackend } from '@gru/wasm';

for (const [name, threads] of [
  ['wasm-plain', 1],
  ['wasm-plain-2t', 2],
]) {
  const b = createWasmBackend({ name, threads, relaxedSimd: false, priority: -1, syncBelowMacs: 0, minStepMacsPerThread: 0 });
  registerBackend(b);
  await b.load();
}
// Inputs and weights from exact arithmetic: seeded initializers and Math.sin go through the
// engine's Math functions, which round differently from one engine to the next.
const values = (n, k) => Float32Array.from({ length: n }, (_, i) => (((i * k) % 97) - 48) / 160);
const x = { shape: [3, 20, 8], data: values(480, 37) };
const H = 40;
const weights = [
  { shape: [8, 3 * H], data: values(8 * 3 * H, 53) },
  { shape: [H, 3 * H], data: values(H * 3 * H, 29) },
  { shape: [2, 3 * H], data: values(2 * 3 * H, 11) },
];
const hash = (data) => {
  let h = 0x811c9dc5;
  for (const w of new Uint32Array(Float32Array.from(data).buffer)) h = Math.imul(h ^ w, 0x01000193) >>> 0;
  return h.toString(16);
};
const runs = {};
for (const backend of ['reference', 'cpu', 'wasm-plain', 'wasm-plain-2t']) {
  const gru = new GRU({ units: H, returnSequences: true });
  gru.setWeights(weights);
  const r = await gru.forward(x, { backend });
  runs[backend] = { backend: r.backend, hash: hash(r.output.data) };
  gru.dispose();
}
const auto = await new GRU({ units: 4, seed: 1 }).forward([[[1, 2]]]);
console.log(JSON.stringify({ runs, auto: auto.backend }));
// Idle pool workers are unref'd in Node; exiting says so to every runtime.
process.exit(0);
