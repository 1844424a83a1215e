#!/usr/bin/env bash
# Installs Debian packages that tests need when they are missing. Each backend package that
# needs one adds it here, with the reason.
set -euo pipefail
need=()
# @gru/webgpu: the Vulkan loader and lavapipe's library dependencies (its test script fetches the
# newer lavapipe that Dawn needs from bookworm-backports), and Chromium for the browser tests
# (@gru/webgpu, @gru/wasm) driven by playwright-core.
# @gru/cpu: the cross compilers of its prebuilt binaries (linux-arm64, win32-x64; the -posix
# MinGW has std::thread), and qemu-user to run the arm64 one (its NEON kernels) under an arm64
# Node.js that packages/cpu/scripts/arm64-sysroot.sh unpacks.
# The lint task: clang-format checks the native code's formatting.
for pkg in libvulkan1 mesa-vulkan-drivers chromium g++-aarch64-linux-gnu g++-mingw-w64-x86-64-posix qemu-user-static clang-format; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# arm64 package lists, for downloading (never installing) Debian's arm64 Node.js.
arm64=0
dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; arm64=1; }
if [ ${#need[@]} -gt 0 ] || [ "$arm64" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  [ ${#need[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
bash packages/cpu/scripts/arm64-sysroot.sh >/dev/null
