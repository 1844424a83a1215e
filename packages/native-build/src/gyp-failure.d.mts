// Types of gyp-failure.mjs.

/** The line of a failed node-gyp build's output that names why it failed, else its last line; undefined for no output. */
export function gypFailureCause(output: string): string | undefined;
