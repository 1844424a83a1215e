#!/usr/bin/env bash
# Sets up a fresh checkout with nothing but Node and npm: installs the pnpm version pinned in
# package.json's packageManager into .tools/ (from the npm registry, not via corepack, which
# downloads from elsewhere and fails offline), then installs the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 COREPACK_ENABLE_STRICT=0

want=$(node -p "require('./package.json').packageManager.split('@')[1]")
have=$([ -x .tools/bin/pnpm ] && .tools/bin/pnpm --version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "bootstrap: installing pnpm@$want into .tools/" >&2
  rm -rf .tools
  npm install --silent --no-audit --no-fund --prefix .tools "pnpm@$want" >&2
  mkdir -p .tools/bin
  ln -sf ../node_modules/pnpm/bin/pnpm.cjs .tools/bin/pnpm
fi

if [ "${CI:-}" = "true" ]; then
  .tools/bin/pnpm install --frozen-lockfile --reporter=append-only >&2
else
  .tools/bin/pnpm install --reporter=append-only >&2
fi
