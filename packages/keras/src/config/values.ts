import { KerasFileError, UnsupportedLayerError } from '../errors.js';
import { isObject, preview } from '../io/json.js';

/** Reads typed values out of one layer's Keras config, with messages naming the layer and key. */
export class ConfigReader {
  constructor(
    readonly config: Record<string, unknown>,
    readonly className: string,
    readonly layerName: string,
  ) {}

  get where(): string {
    return `layer '${this.layerName}' (${this.className})`;
  }

  fail(message: string): never {
    throw new KerasFileError(`${this.where}: ${message}`);
  }

  unsupported(message: string): never {
    throw new UnsupportedLayerError(this.className, this.layerName, `${this.where}: ${message}`);
  }

  /** A positive integer size (units, output_dim ...), bounded so products of sizes stay exact. */
  positiveInt(key: string, fallback?: number): number {
    const v = this.config[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 2 ** 31) {
      this.fail(`\`${key}\` must be a positive integer up to 2^31 (gru's bound), found ${preview(v)}.`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(`\`${key}\` must be true or false, found ${preview(v)}.`);
    return v;
  }

  number(key: string, fallback: number): number {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`\`${key}\` must be a finite number, found ${preview(v)}.`);
    return v;
  }

  /** Options that change what the weights mean (LoRA adapters, quantized weights) are refused, not ignored. */
  refuseIfSet(key: string, why: string): void {
    const v = this.config[key];
    if (v !== undefined && v !== null && v !== false && v !== 0) this.unsupported(`\`${key}\`=${preview(v)} is not supported: ${why}.`);
  }
}

/** The dtype policy's name from a Keras 2 string, a Keras 2 `Policy` or a Keras 3 `DTypePolicy` object. */
export function policyName(dtype: unknown): string | undefined {
  if (dtype === undefined || dtype === null) return undefined;
  if (typeof dtype === 'string') return dtype;
  if (isObject(dtype)) {
    const cfg = dtype.config;
    if (isObject(cfg) && typeof cfg.name === 'string') return cfg.name;
    if (typeof dtype.name === 'string') return dtype.name;
  }
  return preview(dtype);
}

/** A shape list from a config: integers or null. */
export function readShape(value: unknown, what: string): (number | null)[] {
  if (!Array.isArray(value) || value.length > 16 || !value.every((d) => d === null || (Number.isInteger(d) && d >= 0 && d <= 2 ** 31))) {
    throw new KerasFileError(`${what} must be a list of non-negative integers or null, found ${preview(value)}.`);
  }
  return value as (number | null)[];
}
