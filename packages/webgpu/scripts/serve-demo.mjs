#!/usr/bin/env node
/**
 * Serves the demo page (demo/) on 127.0.0.1, with what the page fetches:
 *   /                     demo/index.html,  /build/*  the esbuild bundles (scripts/build-browser.mjs)
 *   /cases/               JSON list of the conformance case files,  /cases/<file>  one of them
 *   /expectations.json    packages/webgpu/conformance.expectations.json
 *   /wasm/gru.wasm        @gru/wasm's module, for the side-by-side demo
 * `node scripts/serve-demo.mjs [--port N]` prints the URL and serves until interrupted; the
 * browser test imports startDemoServer().
 */
import { createServer } from 'node:http';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(pkg, '..', '..');
export const DEMO_DIR = join(pkg, 'demo');
export const CASES_DIR = join(repo, 'conformance', 'cases', 'keras-3.15.1');
const EXPECTATIONS = join(repo, 'packages', 'webgpu', 'conformance.expectations.json');
const WASM = join(repo, 'packages', 'wasm', 'dist', 'gru.wasm');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
};

function listJson(dir) {
  const out = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...listJson(path));
    else if (entry.endsWith('.json')) out.push(relative(CASES_DIR, path).split(sep).join('/'));
  }
  return out;
}

/** A path under `root`, or undefined when the request tries to leave it. */
function inside(root, rel) {
  const path = normalize(join(root, decodeURIComponent(rel)));
  return path.startsWith(root + sep) || path === root ? path : undefined;
}

function route(url) {
  const p = url.pathname;
  if (p === '/' || p === '/index.html') return { file: join(DEMO_DIR, 'index.html') };
  if (p.startsWith('/build/')) return { file: inside(join(DEMO_DIR, 'build'), p.slice('/build/'.length)) };
  if (p === '/cases/') return { body: JSON.stringify(listJson(CASES_DIR)), type: TYPES['.json'] };
  if (p.startsWith('/cases/')) return { file: inside(CASES_DIR, p.slice('/cases/'.length)) };
  if (p === '/expectations.json') return { file: EXPECTATIONS };
  if (p === '/wasm/gru.wasm') return { file: WASM };
  return {};
}

/** Starts the server on 127.0.0.1 (port 0 = any free port); resolves with its URL and a close(). */
export function startDemoServer({ port = 0 } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const r = route(url);
    if (r.body !== undefined) {
      res.writeHead(200, { 'content-type': r.type, 'cache-control': 'no-store' });
      res.end(r.body);
      return;
    }
    if (!r.file || !existsSync(r.file) || !statSync(r.file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${url.pathname}${r.file === WASM ? ' (build @gru/wasm first)' : ''}`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(r.file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(r.file));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({ url: `http://127.0.0.1:${bound}/`, close: () => new Promise((done) => server.close(() => done(undefined))) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 8173;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve-demo: --port must be an integer from 0 to 65535; received '${process.argv[i + 1]}'.`);
    process.exit(2);
  }
  if (!existsSync(join(DEMO_DIR, 'build', 'demo.js'))) {
    console.error('serve-demo: demo/build/demo.js is missing; run `node scripts/build-browser.mjs` first.');
    process.exit(1);
  }
  const { url } = await startDemoServer({ port });
  console.log(`gru WebGPU demo: ${url}  (Chromium needs WebGPU: chrome://flags or --enable-unsafe-webgpu on Linux)`);
  console.log(`conformance suite in the browser: ${url}?conformance=1`);
}
