#!/usr/bin/env bash
# The project's formatters and linter, as checks (no file is written):
#   TypeScript, JavaScript and JSON: Biome (biome.json), formatting and lint rules;
#   C++ (packages/*/native): clang-format (.clang-format).
# `scripts/lint.sh --fix` rewrites the files instead (formatting and Biome's safe fixes).
set -uo pipefail
cd "$(dirname "$0")/.."
fix=0
[ "${1:-}" = "--fix" ] && fix=1
status=0
biome=node_modules/.bin/biome
if [ "$fix" = 1 ]; then "$biome" check --write . || status=1; else "$biome" ci . || status=1; fi

mapfile -t native < <(git ls-files 'packages/*/native/*.cc' 'packages/*/native/*.h' 'packages/*/native/**/*.cc' 'packages/*/native/**/*.h' 'packages/*/test/fake-gpu/*.cc')
if command -v clang-format >/dev/null 2>&1; then
  if [ "$fix" = 1 ]; then clang-format -i "${native[@]}" || status=1; else clang-format --dry-run -Werror "${native[@]}" || status=1; fi
else
  echo "lint: clang-format is not installed (Debian: apt-get install clang-format), so the native code was not checked" >&2
  [ "${CI:-}" = "true" ] && status=1
fi
exit $status
