#!/usr/bin/env bash
# Installs Debian packages that tests need when they are missing. Each backend package that
# needs one adds it here, with the reason.
set -euo pipefail
need=()
# @gru/webgpu: the Vulkan loader and lavapipe's library dependencies (its test script fetches the
# newer lavapipe that Dawn needs from bookworm-backports), and Chromium for the browser tests
# (@gru/webgpu, @gru/wasm) driven by playwright-core.
for pkg in libvulkan1 mesa-vulkan-drivers chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
