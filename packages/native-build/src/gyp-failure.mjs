// Why a node-gyp build failed, in one line, for the install scripts of @gru/cpu and @gru/cudnn:
// they keep node-gyp's forty lines back (a user without a compiler should get one warning), so the
// warning must quote the line that names the cause. node-gyp ends with generic lines (`gyp ERR! not
// ok`, `gyp ERR! cwd …`, `gyp ERR! node -v …`), and the build scripts end with their own advice, so
// the last line never does.

/** A line that names a cause: node-gyp's error, a compiler's `error:`, a missing tool. */
const CAUSE = /gyp ERR! stack Error|error:|not found|No such file|ENOENT/;

/**
 * The first line of a failed build's output (stderr and stdout, in that order) that names why it
 * failed, trimmed; else its last non-empty line; undefined when the output is empty.
 * @param {string} output
 * @returns {string | undefined}
 */
export function gypFailureCause(output) {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => CAUSE.test(l)) ?? lines.at(-1);
}
