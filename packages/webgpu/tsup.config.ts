import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // The public types use GPUDevice, GPUAdapterInfo...: the emitted .d.ts and .d.cts must pull in
  // @webgpu/types (a dependency) themselves, or consumers get "Cannot find name 'GPUDevice'".
  // rollup-plugin-dts drops a triple-slash reference written in src, so it is a banner (test/types.test.ts).
  dts: { banner: '/// <reference types="@webgpu/types" />' },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // `webgpu` (Dawn for Node) is an optional peer, imported only when there is no navigator.gpu.
  external: ['@gru/core', 'webgpu'],
});
