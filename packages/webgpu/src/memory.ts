/**
 * GPU buffers of one backend, counted so that `memoryInUse()` is exact and the leak check in
 * conformance means something. Every buffer the backend creates goes through here.
 */
export class GpuMemory {
  private bytesLive = 0;
  private readonly sizes = new WeakMap<GPUBuffer, number>();

  get bytes(): number {
    return this.bytesLive;
  }

  create(device: GPUDevice, size: number, usage: number, label: string): GPUBuffer {
    // WebGPU wants sizes that are multiples of 4 (writeBuffer, copies); 16 keeps bindings valid.
    const bytes = Math.max(16, Math.ceil(size / 16) * 16);
    const buffer = device.createBuffer({ size: bytes, usage, label: `gru-webgpu ${label}` });
    this.sizes.set(buffer, bytes);
    this.bytesLive += bytes;
    return buffer;
  }

  destroy(buffer: GPUBuffer): void {
    const bytes = this.sizes.get(buffer);
    if (bytes === undefined) return;
    this.sizes.delete(buffer);
    this.bytesLive -= bytes;
    buffer.destroy();
  }
}

/** Float32 values as IEEE half-precision bits (round to nearest even), padded to whole words. */
export function toFloat16Bits(src: ArrayLike<number>): Uint16Array<ArrayBuffer> {
  const out = new Uint16Array(src.length + (src.length % 2));
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < src.length; i++) {
    f[0] = src[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && h & 1)) h++;
      out[i] = sign | h;
    } else {
      let h = (e << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
      out[i] = sign | h;
    }
  }
  return out;
}
