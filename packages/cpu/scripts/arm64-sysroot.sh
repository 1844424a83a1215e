#!/usr/bin/env bash
# Unpacks Debian's arm64 Node.js (18, Node-API 9) and its libraries into .qemu-arm64/root, so the
# linux-arm64 prebuilt binary (and its NEON kernels) can run here under qemu-user
# (test/prebuilds.test.ts). Nothing arm64 is installed on the machine: the packages are only
# downloaded and unpacked. Never `apt-get install nodejs:arm64`: that package is not multi-arch
# and would REMOVE the machine's own Node.js.
# Needs qemu-user-static, and dpkg's arm64 architecture with its package lists
# (`dpkg --add-architecture arm64 && apt-get update`), which scripts/ci-system-deps.sh sets up.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.qemu-arm64
if [ -x "$dest/root/usr/bin/node" ]; then echo "$PWD/$dest/root"; exit 0; fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "arm64-sysroot: dpkg has no arm64 architecture; run: dpkg --add-architecture arm64 && apt-get update" >&2
  exit 1
fi
rm -rf "$dest" && mkdir -p "$dest/debs" && chmod 777 "$dest/debs"   # apt's _apt user downloads into it
(cd "$dest/debs" && apt-get download -qq nodejs:arm64 libnode108:arm64 libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 \
  libuv1:arm64 libssl3:arm64 libicu72:arm64 libbrotli1:arm64 libc-ares2:arm64 libnghttp2-14:arm64 zlib1g:arm64 \
  node-acorn node-cjs-module-lexer node-undici node-busboy node-xtend) >&2
mkdir -p "$dest/root"
for d in "$dest"/debs/*.deb; do dpkg-deb -x "$d" "$dest/root"; done
rm -rf "$dest/debs"
echo "$PWD/$dest/root"
