import type { FloatArray } from '@gru/core';
import type { DeviceBackwardArgs, DeviceForwardArgs, DeviceInfo, DeviceLayer, DeviceLayerDims, DeviceRuntime, DeviceSaved } from '../src/device.js';

/**
 * A test double for the GPU: cuDNN's GRU as its documentation states it, in float64, on the
 * packed cuDNN layout read directly (IDs 0..2 = W_r, W_z, W_n [H, D] row-major; 3..5 = R_r,
 * R_z, R_n [H, H]; then the six biases), with per-row sequence lengths and zero padding:
 *   r = σ(W_r x + bW_r + R_r h + bR_r), z = σ(W_z x + bW_z + R_z h + bR_z),
 *   n = tanh(W_n x + bW_n + r ⊙ (R_n h + bR_n)), h' = (1 − z) ⊙ n + z ⊙ h.
 * It does not share code with src/weights.ts, so the TypeScript half (packing, sequence
 * mapping, gradient mapping) is checked against an independent reading of cuDNN's contract.
 * What it cannot check: whether the real cuDNN behaves as documented.
 */

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

interface Step {
  x: Float64Array;
  hPrev: Float64Array;
  r: Float64Array;
  z: Float64Array;
  n: Float64Array;
  recN: Float64Array;
}

class EmulatedSaved implements DeviceSaved {
  constructor(
    readonly layer: EmulatedLayer,
    readonly rows: Step[][],
    readonly batch: number,
    readonly timesteps: number,
    readonly lengths: Int32Array,
    private readonly counter: { bytes: number },
    private size: number,
  ) {
    counter.bytes += size;
  }
  dispose(): void {
    this.counter.bytes -= this.size;
    this.size = 0;
  }
  bytes(): number {
    return this.size;
  }
}

class EmulatedLayer implements DeviceLayer {
  private w: Float64Array | null = null;
  private disposed = false;
  constructor(
    readonly dims: DeviceLayerDims,
    private readonly counter: { bytes: number },
    private readonly log: string[],
  ) {
    counter.bytes += this.bytes();
  }

  bytes(): number {
    return this.disposed ? 0 : this.count() * 8;
  }

  private count(): number {
    const { inputDim: D, units: H } = this.dims;
    return 3 * H * D + 3 * H * H + 6 * H;
  }

  private matrix(id: number): number {
    const { inputDim: D, units: H } = this.dims;
    return id < 3 ? id * H * D : 3 * H * D + (id - 3) * H * H;
  }

  private bias(id: number): number {
    const { inputDim: D, units: H } = this.dims;
    return 3 * H * D + 3 * H * H + id * H;
  }

  async setWeights(packed: FloatArray): Promise<void> {
    if (packed.length !== this.count()) throw new RangeError(`emulator: packed weights have ${packed.length} elements, expected ${this.count()}`);
    this.w = Float64Array.from(packed);
    this.log.push('setWeights');
  }

  /** Σ_k M_id[j, k] v[k] + b_id[j] for one gate's matrix. */
  private affine(id: number, v: ArrayLike<number>, vOff: number, out: Float64Array): void {
    const w = this.w as Float64Array;
    const H = this.dims.units;
    const inputs = id < 3 ? this.dims.inputDim : H;
    const m = this.matrix(id);
    const b = this.bias(id);
    for (let j = 0; j < H; j++) {
      let s = w[b + j];
      for (let k = 0; k < inputs; k++) s += w[m + j * inputs + k] * v[vOff + k];
      out[j] = s;
    }
  }

  async forward(a: DeviceForwardArgs): Promise<DeviceSaved | undefined> {
    if (this.disposed) throw new Error('emulator: forward on a disposed layer');
    if (!this.w) throw new Error('emulator: forward before setWeights');
    this.log.push(`forward training=${a.training}`);
    const { inputDim: D, units: H } = this.dims;
    const { batch: B, timesteps: T } = a;
    const round = this.dims.dtype === 'float32' ? Math.fround : (v: number) => v;
    const rows: Step[][] = [];
    const tmp = [0, 1, 2, 3, 4, 5].map(() => new Float64Array(H));
    for (let b = 0; b < B; b++) {
      const L = a.seqLengths[b];
      if (L < 1 || L > T) throw new RangeError(`emulator: seqLengths[${b}] = ${L} (cuDNN rejects lengths outside 1..T)`);
      let h = new Float64Array(H);
      if (a.hx) for (let j = 0; j < H; j++) h[j] = a.hx[b * H + j];
      const steps: Step[] = [];
      for (let t = 0; t < L; t++) {
        const xOff = (b * T + t) * D;
        for (let id = 0; id < 3; id++) this.affine(id, a.x, xOff, tmp[id]);
        for (let id = 3; id < 6; id++) this.affine(id, h, 0, tmp[id]);
        const r = tmp[0].map((v, j) => sigmoid(v + tmp[3][j]));
        const z = tmp[1].map((v, j) => sigmoid(v + tmp[4][j]));
        const recN = tmp[5].slice();
        const n = tmp[2].map((v, j) => Math.tanh(v + r[j] * recN[j]));
        const next = new Float64Array(H);
        for (let j = 0; j < H; j++) next[j] = round((1 - z[j]) * n[j] + z[j] * h[j]);
        steps.push({ x: Float64Array.from(a.x.subarray(xOff, xOff + D)), hPrev: h, r, z, n, recN });
        h = next;
        if (a.y) a.y.set(h, (b * T + t) * H);
      }
      if (a.y) a.y.fill(0, (b * T + L) * H, (b + 1) * T * H);
      a.hy.set(h, b * H);
      rows.push(steps);
    }
    if (!a.training) return undefined;
    return new EmulatedSaved(this, rows, B, T, a.seqLengths.slice(), this.counter, B * T * (D + 5 * H) * 8);
  }

  async backward(saved: DeviceSaved, a: DeviceBackwardArgs): Promise<void> {
    if (this.disposed) throw new Error('emulator: backward on a disposed layer');
    if (!(saved instanceof EmulatedSaved) || saved.layer !== this) throw new Error('emulator: saved pass from another layer');
    this.log.push('backward');
    const w = this.w as Float64Array;
    const { inputDim: D, units: H } = this.dims;
    const { batch: B, timesteps: T } = saved;
    const dw = new Float64Array(this.count());
    a.dx.fill(0);
    for (let b = 0; b < B; b++) {
      const steps = saved.rows[b];
      let dh = Float64Array.from(a.dhy.subarray(b * H, (b + 1) * H));
      for (let t = steps.length - 1; t >= 0; t--) {
        const { x, hPrev, r, z, n, recN } = steps[t];
        for (let j = 0; j < H; j++) dh[j] += a.dy[(b * T + t) * H + j];
        const pre = [new Float64Array(H), new Float64Array(H), new Float64Array(H), new Float64Array(H), new Float64Array(H), new Float64Array(H)];
        const dhPrev = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          const dn = dh[j] * (1 - z[j]);
          const dz = dh[j] * (hPrev[j] - n[j]);
          dhPrev[j] = dh[j] * z[j];
          const dnPre = dn * (1 - n[j] * n[j]);
          const dr = dnPre * recN[j];
          const drPre = dr * r[j] * (1 - r[j]);
          const dzPre = dz * z[j] * (1 - z[j]);
          // Input-side pre-activations of IDs 0, 1, 2 and recurrent-side of 3, 4, 5.
          pre[0][j] = drPre;
          pre[1][j] = dzPre;
          pre[2][j] = dnPre;
          pre[3][j] = drPre;
          pre[4][j] = dzPre;
          pre[5][j] = dnPre * r[j];
        }
        for (let id = 0; id < 6; id++) {
          const inputs = id < 3 ? D : H;
          const v = id < 3 ? x : hPrev;
          const m = this.matrix(id);
          const bo = this.bias(id);
          for (let j = 0; j < H; j++) {
            const g = pre[id][j];
            dw[bo + j] += g;
            for (let k = 0; k < inputs; k++) dw[m + j * inputs + k] += g * v[k];
          }
          for (let k = 0; k < inputs; k++) {
            let s = 0;
            for (let j = 0; j < H; j++) s += w[m + j * inputs + k] * pre[id][j];
            if (id < 3) a.dx[(b * T + t) * D + k] += s;
            else dhPrev[k] += s;
          }
        }
        dh = dhPrev;
      }
      a.dhx.set(dh, b * H);
    }
    a.dw.set(dw);
  }

  dispose(): void {
    if (!this.disposed) this.counter.bytes -= this.bytes();
    this.disposed = true;
  }
}

export interface EmulatedRuntime extends DeviceRuntime {
  /** Calls made, in order ('setWeights', 'forward training=false', 'backward'). */
  readonly log: string[];
  readonly layers: EmulatedLayer[];
}

export function emulatedRuntime(): EmulatedRuntime {
  const counter = { bytes: 0 };
  const log: string[] = [];
  const layers: EmulatedLayer[] = [];
  const info: DeviceInfo = {
    deviceName: 'emulated cuDNN (test double)',
    device: 0,
    computeCapability: '0.0',
    driverVersion: 0,
    driverPath: '',
    cudnnVersion: 90000,
    cudnnCudartVersion: 13000,
    cudnnPath: '',
    cublasLtPath: '',
    totalMemory: 0,
  };
  return {
    log,
    layers,
    async createLayer(dims) {
      const layer = new EmulatedLayer(dims, counter, log);
      layers.push(layer);
      return layer;
    },
    memoryInUse: () => ({ device: counter.bytes, host: 0 }),
    info: () => info,
  };
}
