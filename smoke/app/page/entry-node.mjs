// The wasm README's recipe for a Node bundle: esbuild's file loader gives "./gru-XXXX.wasm",
// relative to the bundle, so resolve it there; a bare string would be read from the working
// directory, which the bundle cannot know.
import wasmUrl from '@gru/wasm/gru.wasm';
import { runGru } from './gru-page.mjs';

globalThis.gruResult = runGru(new URL(wasmUrl, import.meta.url));
