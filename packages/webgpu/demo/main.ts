/**
 * The demo page: a GRU on WebGPU and on WebAssembly side by side (output, agreement with the
 * reference backend, timing), and the conformance suite run in this browser (`?conformance=1`
 * runs it on load; the browser test reads `window.__gru`), and a GRU trained with Adam on the
 * backends that implement backward (`?train=1` trains on load).
 */
import { backend as webgpu } from '../src/index.js';
import { registerBackend } from '@gru/core';
import { createWasmBackend } from '@gru/wasm';
import { runBrowserConformance, type BrowserCaseResult } from './browser-conformance.js';
import { runSideBySide, type DemoRow, type DemoShape } from './side-by-side.js';
import { drawLosses, trainOn, type TrainRun } from './train.js';

interface PageState {
  adapter?: string;
  adapterError?: string;
  isFallbackAdapter?: boolean;
  demo?: DemoRow[];
  demoDone: boolean;
  conformance: BrowserCaseResult[];
  conformanceDone: boolean;
  conformanceError?: string;
  train: TrainRun[];
  trainDone: boolean;
}

const state: PageState = { demoDone: false, conformance: [], conformanceDone: false, train: [], trainDone: false };
(globalThis as { __gru?: PageState }).__gru = state;

const params = new URLSearchParams(location.search);
// A page may run where only a software adapter exists (CI's SwiftShader): allowed, and shown.
// `?recurrence=stepwise` (or fused) forces that kernel, so the browser test can check both.
const recurrence = params.get('recurrence');
webgpu.configure({ allowFallbackAdapter: true, ...(recurrence === 'fused' || recurrence === 'stepwise' ? { recurrence } : {}) });
// gru.wasm is served by the demo server; the default URL assumes the package layout.
registerBackend(createWasmBackend({ wasmUrl: new URL('wasm/gru.wasm', location.href) }));

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fmt = (v: number | undefined, digits = 2) => (v === undefined ? '' : v.toFixed(digits));

async function showAdapter(): Promise<void> {
  try {
    await webgpu.load();
    const info = webgpu.info;
    state.adapter = info?.adapter;
    state.isFallbackAdapter = info?.isFallbackAdapter;
    $('adapter').textContent =
      `${info?.adapter}${info?.isFallbackAdapter ? ' — a software adapter: its timings say nothing about GPU speed' : ''}${info?.shaderF16 ? ' (shader-f16)' : ''}`;
  } catch (err) {
    state.adapterError = (err as Error).message;
    $('adapter').textContent = `no WebGPU: ${state.adapterError}`;
  }
}

function readShape(): DemoShape {
  const n = (id: string) => {
    const v = Number(($(id) as HTMLInputElement).value);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${id} must be a positive integer; received '${($(id) as HTMLInputElement).value}'`);
    return v;
  };
  return { batch: n('batch'), timesteps: n('timesteps'), inputDim: n('inputDim'), units: n('units') };
}

async function runDemo(): Promise<void> {
  const body = $('demo-rows');
  body.innerHTML = '<tr><td colspan="6">running…</td></tr>';
  try {
    const rows = await runSideBySide(readShape(), ['webgpu', 'wasm']);
    state.demo = rows;
    body.innerHTML = '';
    for (const r of rows) {
      const tr = document.createElement('tr');
      const cells = r.error
        ? [r.backend, `could not run: ${r.error}`, '', '', '', '']
        : [
            r.backend,
            fmt(r.firstMs),
            `${fmt(r.medianMs)} (${r.runs} runs)`,
            r.maxDiffVsReference?.toExponential(1) ?? '',
            (r.head ?? []).map((v) => v.toFixed(4)).join(', '),
            '',
          ];
      for (const c of cells.slice(0, 5)) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  } catch (err) {
    body.innerHTML = '';
    const tr = document.createElement('tr');
    tr.textContent = (err as Error).message;
    body.appendChild(tr);
  } finally {
    state.demoDone = true;
  }
}

async function runConformance(): Promise<void> {
  const out = $('conformance-status');
  const list = $('conformance-failures');
  list.innerHTML = '';
  state.conformance = [];
  state.conformanceDone = false;
  const counts = { passed: 0, failed: 0, skipped: 0 };
  try {
    await runBrowserConformance(webgpu, new URL('./', location.href).href, (r) => {
      state.conformance.push(r);
      if (r.status === 'passed') counts.passed++;
      else if (r.status === 'failed') counts.failed++;
      else counts.skipped++;
      out.textContent = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} unsupported (running: ${r.name})`;
      if (r.status === 'failed') {
        const li = document.createElement('li');
        li.textContent = `${r.name}: ${r.detail}`;
        list.appendChild(li);
      }
    });
    out.textContent = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} unsupported`;
  } catch (err) {
    state.conformanceError = (err as Error).message;
    out.textContent = `the suite could not run: ${state.conformanceError}`;
  } finally {
    state.conformanceDone = true;
  }
}

/** Trains on every browser backend that has backward here, one after the other; says which did and why not. */
async function runTrain(): Promise<void> {
  const body = $('train-rows');
  body.innerHTML = '';
  state.train = [];
  state.trainDone = false;
  try {
    for (const name of ['webgpu', 'wasm']) {
      const run = await trainOn(name);
      state.train.push(run);
      const tr = document.createElement('tr');
      const status = run.skipped ?? (run.error ? `failed: ${run.error}` : `trained (${run.losses.length} steps)`);
      const cells = [run.backend, status, run.losses[0]?.toExponential(2) ?? '', run.losses.at(-1)?.toExponential(2) ?? '', fmt(run.ms, 0)];
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      body.appendChild(tr);
      drawLosses($<HTMLCanvasElement>('train-curve'), state.train);
    }
  } finally {
    state.trainDone = true;
  }
}

$('run').addEventListener('click', () => void runDemo());
$('train').addEventListener('click', () => void runTrain());
$('run-conformance').addEventListener('click', () => void runConformance());
await showAdapter();
await runDemo();
if (params.has('train')) await runTrain();
if (params.has('conformance')) await runConformance();
