// The dual-package hazard: backends registered through CommonJS copies of the packages, used by a
// layer from the ESM copy of @gru/core (and the other way round), in one process.
import { createRequire } from 'node:module';
import { GRU, getBackend, listBackends, loadBackend } from '@gru/core';
import '@gru/wasm'; // ESM: registers wasm

const require = createRequire(import.meta.url);
require('@gru/cpu'); // CJS: registers cpu into the registry the CJS copy of core sees
const cjsCore = require('@gru/core');
const { createWasmBackend } = require('@gru/wasm');
cjsCore.registerBackend(createWasmBackend({ name: 'wasm-from-cjs', priority: -1 }));

const x = { shape: [1, 2, 3], data: Float32Array.from({ length: 6 }, (_, i) => i / 6) };
const esmLayer = new GRU({ units: 4 });
const auto = await esmLayer.forward(x); // cpu has the highest priority of those registered and loadable here
const named = await esmLayer.forward(x, { backend: 'wasm-from-cjs' });
await cjsCore.loadBackend('wasm');
const cjsLayer = new cjsCore.GRU({ units: 4 });
const fromCjs = cjsLayer.forwardSync(x, { backend: 'wasm' }); // wasm was registered through ESM
console.log(
  JSON.stringify({
    sameRegistry:
      listBackends()
        .map((b) => b.name)
        .sort()
        .join() ===
      cjsCore
        .listBackends()
        .map((b) => b.name)
        .sort()
        .join(),
    esmSeesCjsCpu: getBackend('cpu') !== undefined,
    auto: auto.backend,
    autoSkipped: auto.skipped.map((s) => s.name),
    named: named.backend,
    fromCjs: fromCjs.backend,
    loadBackendType: typeof loadBackend,
  }),
);
