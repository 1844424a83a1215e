#!/usr/bin/env bash
# Runs every GPU check of @gru/cudnn on a machine with an NVIDIA GPU, cuDNN 9 and python3 with
# PyTorch, but no Node.js and no network (the workplace's device machines).
#
# On the development machine, from the repository root:
#   .tools/bin/pnpm turbo run build
#   node packages/cudnn/scripts/make-device-bundle.mjs
# then with the device tool, from the repository root:
#   command: bash packages/cudnn/scripts/device-run.sh
#   carry:   ["build/cudnn-device-bundle"]
#
# Writes to $OUT (the device tool's output folder; /tmp/gru-device-out elsewhere):
#   env.txt, device-check.log/.json (load, conformance, semantics, precision, memory,
#   event loop, concurrency), bench.md/.json (gru:cudnn vs torch nn.GRU on CUDA, same run).
# Flags: --no-bench (checks only), --quick-bench (the benchmark's --quick), --small (device-check's
# small shapes: for a dry run of this script against test/fake-gpu's libraries, without a GPU).
set -uo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
bundle="$repo/build/cudnn-device-bundle"
out="${OUT:-/tmp/gru-device-out}"
mkdir -p "$out"
bench=1
bench_flags=()
check_flags=()
for arg in "$@"; do
  case "$arg" in
    --no-bench) bench=0 ;;
    --quick-bench) bench_flags+=(--quick) ;;
    --small) check_flags+=(--small) ;;
    *) echo "device-run: unknown flag $arg" >&2; exit 2 ;;
  esac
done

if [ ! -f "$bundle/node.xz" ]; then
  echo "device-run: $bundle/node.xz is missing: run node packages/cudnn/scripts/make-device-bundle.mjs and carry the bundle" >&2
  exit 2
fi

# Node from the bundle (python3's lzma: xz itself may not be installed there).
nodedir=/tmp/gru-node
mkdir -p "$nodedir"
if [ ! -x "$nodedir/node" ]; then
  python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" "$bundle/node.xz" "$nodedir/node" || exit 2
  chmod +x "$nodedir/node"
fi
export PATH="$nodedir:$PATH"
# One cuBLAS workspace size: deterministic cuDNN RNN results (cuDNN 7.6.5 release notes).
export CUBLAS_WORKSPACE_CONFIG=:4096:8

{
  echo "== node"; node --version
  echo "== nvidia-smi"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
  echo "== python3"; command -v python3; python3 --version
  echo "== cuDNN wheel"
  python3 -c "import nvidia.cudnn as m; print(list(m.__path__))" 2>&1
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version())" 2>&1
  echo "== libraries"
  python3 - <<'PY' 2>&1
import glob, site
for s in site.getsitepackages():
    for pattern in ("nvidia/cudnn/lib/libcudnn*.so*", "nvidia/cu13/lib/libcublasLt*", "nvidia/cublas/lib/libcublasLt*"):
        for f in sorted(glob.glob(s + "/" + pattern)):
            print(f)
PY
  ldconfig -p 2>/dev/null | grep -E "libcuda\.so|libcudnn|libcublasLt" || true
} >"$out/env.txt" 2>&1
cat "$out/env.txt"

status=0
echo "== device-check"
node "$bundle/scripts/device-check.mjs" --json "$out/device-check.json" ${check_flags[@]+"${check_flags[@]}"} 2>&1 | tee "$out/device-check.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

if [ "$bench" -eq 1 ]; then
  echo "== benchmark"
  runners=gru:cudnn,torch-gru-cuda
  [ -d "$bundle/node_modules/@gru/cpu" ] && runners="$runners,gru:cpu"
  (cd "$bundle/benchmarks" && node src/run.mjs --runners "$runners" --json "$out/bench.json" ${bench_flags[@]+"${bench_flags[@]}"}) 2>&1 | tee "$out/bench.md"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
echo "device-run: exit $status; results in $out"
exit $status
