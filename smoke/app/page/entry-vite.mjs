// Vite: the ?url suffix emits gru.wasm as an asset and gives its URL.
import wasmUrl from '@gru/wasm/gru.wasm?url';
import { runGru } from './gru-page.mjs';

globalThis.gruResult = runGru(wasmUrl);
