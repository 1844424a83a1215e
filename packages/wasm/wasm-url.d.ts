// The type of `import wasmUrl from '@gru/wasm/gru.wasm'` (and the other .wasm files): a bundler
// that copies the file (esbuild's `file` loader, webpack's asset modules) gives its URL as a string.
declare const url: string;
export default url;
