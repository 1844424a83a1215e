// Runs one fuzz target in a worker thread, so that the test (test/fuzz.test.ts) can stop a hang
// with a deadline and cap memory with resourceLimits. It loads the built package (dist/), which
// the workspace builds before testing. Plain JavaScript: workers do not go through vitest.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { rng } from '@gru/conformance/testing';

const { dist, fixtures, target } = workerData;
const { loadModel } = await import(pathToFileURL(dist).href);

const HUGE = [0xffffffff, 0x7fffffff, 0x80000000, 0x40000000, 0x10000, 0xffff, 0];

/** One mutation of a binary file: bit flips, huge declared sizes, byte runs, truncation, splices. */
function mutateBinary(base, r) {
  const pick = (n) => Math.floor(r() * n);
  const kind = r();
  const b = new Uint8Array(base);
  if (kind < 0.3) {
    const flips = 1 + pick(8);
    for (let i = 0; i < flips; i++) b[pick(b.length)] ^= 1 << pick(8);
    return b;
  }
  if (kind < 0.55) {
    // A huge or zero 32/64-bit little-endian integer: a declared size, count or offset.
    const at = pick(b.length - 8);
    const v = HUGE[pick(HUGE.length)];
    for (let i = 0; i < 4; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
    if (r() < 0.5) for (let i = 4; i < 8; i++) b[at + i] = r() < 0.5 ? 0xff : 0;
    return b;
  }
  if (kind < 0.7) {
    const at = pick(b.length);
    b.fill(r() < 0.5 ? 0xff : 0x00, at, at + 1 + pick(16));
    return b;
  }
  if (kind < 0.85) return b.slice(0, pick(b.length));
  // Splice: drop or duplicate a run of bytes, shifting every offset after it.
  const at = pick(b.length);
  const len = 1 + pick(64);
  if (r() < 0.5) return new Uint8Array([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + len))]);
  return new Uint8Array([...b.subarray(0, at + len), ...b.subarray(at)]);
}

/** One mutation of a JSON text: huge or negative numbers, deleted or swapped characters, truncation. */
function mutateJson(text, r) {
  const pick = (n) => Math.floor(r() * n);
  const kind = r();
  if (kind < 0.4) {
    const numbers = [...text.matchAll(/-?\d+(\.\d+)?/g)];
    if (numbers.length) {
      const m = numbers[pick(numbers.length)];
      const values = ['99999999999', '4294967296', '-1', '0', '1e308', '2147483647', '3.5', 'null', '"x"', '[]'];
      return text.slice(0, m.index) + values[pick(values.length)] + text.slice(m.index + m[0].length);
    }
  }
  if (kind < 0.6) {
    const at = pick(text.length);
    return text.slice(0, at) + text.slice(at + 1 + pick(8));
  }
  if (kind < 0.75) {
    const keys = [...text.matchAll(/"[a-z_]+"/g)];
    if (keys.length > 1) {
      const a = keys[pick(keys.length)];
      const b = keys[pick(keys.length)];
      return text.replace(a[0], b[0]);
    }
  }
  if (kind < 0.9) return text.slice(0, pick(text.length));
  const at = pick(text.length);
  return text.slice(0, at) + String.fromCharCode(32 + pick(95)) + text.slice(at + 1);
}

const readBytes = (path) => new Uint8Array(readFileSync(path));
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** The inputs of one target: a generator of [bytes, options] for loadModel. */
function inputs() {
  const r = rng(target.seed);
  const ref = readJson(join(fixtures, target.json));
  const input = ref.input ?? (ref.inputs.length === 1 ? ref.inputs[0] : ref.inputs);
  if (target.kind === 'config') {
    // The weights stay; the model config (graph, calls, layer options) is mutated as text.
    const bytes = readBytes(join(fixtures, target.file));
    const text = JSON.stringify(ref.model_config);
    return { input, next: () => [bytes, { config: mutateJson(text, r) }] };
  }
  if (target.kind === 'tfjs') {
    const dir = join(fixtures, target.file);
    const text = readFileSync(join(dir, 'model.json'), 'utf8');
    const shards = target.shards.map((n) => [n, readBytes(join(dir, n))]);
    return {
      input,
      next() {
        const files = Object.fromEntries(shards);
        let json = text;
        if (r() < 0.7) json = mutateJson(text, r);
        else {
          const [name, bytes] = shards[Math.floor(r() * shards.length)];
          files[name] = mutateBinary(bytes, r);
        }
        return [new TextEncoder().encode(json), { files }];
      },
    };
  }
  const base = readBytes(join(fixtures, target.file));
  const options = target.configFrom ? { config: readJson(join(fixtures, target.configFrom)).model_config } : {};
  return { input, next: () => [mutateBinary(base, r), options] };
}

/**
 * Every tenth binary input is loaded from a file (the regular-file reader) rather than from bytes;
 * a separate generator decides, so the mutations themselves do not change.
 */
const viaFile = rng(target.seed + 1000);
const scratch = mkdtempSync(join(tmpdir(), 'gru-keras-fuzz-'));
/** Small bounds, so that the byte budget (maxBytes) and the parameter bound are exercised too. */
const limits = { maxParameters: 1 << 20, maxBytes: 8 << 20 };

const { input, next } = inputs();
/**
 * For mutated configs, an engine error (a TypeError from reading a missing field, a RangeError from
 * an impossible allocation) is a crash, not a clear refusal: the loader must name what is wrong.
 */
const ENGINE_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError']);
const strict = target.kind === 'config';
const stats = { count: target.count, loaded: 0, refused: 0, slowestMs: 0, problems: [], messages: {} };
for (let i = 0; i < target.count; i++) {
  const [bytes, options] = next();
  parentPort.postMessage({ progress: i });
  const started = performance.now();
  try {
    let source = bytes;
    if (target.kind === 'binary' && viaFile() < 0.1) {
      source = join(scratch, `input-${i}`);
      writeFileSync(source, bytes);
    }
    const model = await loadModel(source, { ...options, limits, timeoutMs: 30000 });
    try {
      model.predictOutputsSync(input);
    } catch (err) {
      // A loaded model may refuse an input (a mutated vocabulary makes an id invalid), with an Error.
      if (!(err instanceof Error) || !err.message) stats.problems.push(`input #${i}: predict threw ${String(err)}`);
      else if (strict && ENGINE_ERRORS.has(err.name)) stats.problems.push(`input #${i}: predict crashed: ${err.name}: ${err.message.slice(0, 200)}`);
    }
    stats.loaded++;
  } catch (err) {
    if (!(err instanceof Error)) stats.problems.push(`input #${i}: threw a non-Error: ${String(err).slice(0, 200)}`);
    else if (!err.message) stats.problems.push(`input #${i}: an Error without a message (${err.name})`);
    else if (strict && ENGINE_ERRORS.has(err.name)) stats.problems.push(`input #${i}: load crashed: ${err.name}: ${err.message.slice(0, 200)}`);
    else {
      const head = err.message.replace(/\/\S+/g, '<path>').slice(0, 60);
      stats.messages[head] = (stats.messages[head] ?? 0) + 1;
    }
    stats.refused++;
  }
  stats.slowestMs = Math.max(stats.slowestMs, performance.now() - started);
}
rmSync(scratch, { recursive: true, force: true });
parentPort.postMessage({ done: stats });
