import { gruRunner } from '../gru-runner.mjs';

// @gru/webgpu in Node through Dawn (the npm package `webgpu`), on a real GPU's Vulkan driver.
// Software adapters (llvmpipe, SwiftShader) are refused by the backend's default options, so on a
// machine without a GPU this runner reports itself unavailable instead of timing a CPU emulation.
export default gruRunner('webgpu', () => import('@gru/webgpu'), {
  note: 'WebGPU via Dawn (npm webgpu) in Node: WGSL kernels, fused whole-sequence kernel up to 512 units; needs a GPU (software adapters are refused, their timings say nothing about GPU speed)',
});
