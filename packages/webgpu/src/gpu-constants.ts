/**
 * WebGPU's flag values, fixed by the specification. Spelled out here because Dawn for Node
 * (the npm package `webgpu`) only provides the `GPUBufferUsage`/`GPUMapMode` globals if the
 * application copies them onto globalThis, which a library must not require.
 */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

export const MapMode = { READ: 0x0001 } as const;

/** WebGPU's default for `minUniformBufferOffsetAlignment`, the largest value the spec allows. */
export const UNIFORM_ALIGN = 256;
