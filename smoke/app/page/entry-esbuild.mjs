// esbuild: --loader:.wasm=file copies gru.wasm next to the bundle and gives its URL.
import wasmUrl from '@gru/wasm/gru.wasm';
import { runGru } from './gru-page.mjs';

globalThis.gruResult = runGru(wasmUrl);
