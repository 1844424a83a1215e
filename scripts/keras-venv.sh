#!/usr/bin/env bash
# Creates .venv-keras with real Keras 3 (numpy backend) for the case generator, from the
# machine's offline wheel indexes (pip's configured extra-index-url), without TensorFlow.
# Prints the venv's python on success.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-keras
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import keras, jax' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  # Use the configured local indexes as the index too: otherwise pip first retries the
  # unreachable public index for minutes.
  extra=$(pip config get global.extra-index-url 2>/dev/null || true)
  args=()
  if [ -n "$extra" ]; then
    read -r -a urls <<<"$extra"
    args+=(--index-url "${urls[0]}")
    for u in "${urls[@]:1}"; do args+=(--extra-index-url "$u"); done
  fi
  log=$(mktemp)
  if ! "$venv/bin/pip" install -q --disable-pip-version-check "${args[@]}" -r conformance/generator/requirements-core.txt >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
fi
echo "$PWD/$venv/bin/python"
