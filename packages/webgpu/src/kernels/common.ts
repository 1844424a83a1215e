/** What every kernel of one prepared layer is specialised on (baked into the WGSL as constants). */
export interface KernelShape {
  units: number;
  inputDim: number;
  resetAfter: boolean;
  activation: string;
  recurrentActivation: string;
  /** Weights stored as f16 (the `shader-f16` opt-in); all arithmetic stays f32. */
  f16: boolean;
}

/** The header shared by the kernels: the f16 switch and the weight element type. */
export function weightTypeHeader(f16: boolean): string {
  return f16 ? 'enable f16;\nalias WT = f16;\n' : 'alias WT = f32;\n';
}

/** A float literal WGSL accepts (`1` is an integer literal there). */
export function f32Literal(v: number): string {
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
