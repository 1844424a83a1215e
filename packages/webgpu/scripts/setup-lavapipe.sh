#!/usr/bin/env bash
# Puts a software Vulkan driver that Dawn (the npm package `webgpu`) accepts into
# packages/webgpu/.vulkan/, so WebGPU tests run on machines without a GPU.
#
# Why not Debian 12's own lavapipe: mesa 22.3 lacks features this Dawn requires
# ("Vulkan shaderUniform*ArrayDynamicIndexing required"), so requestAdapter() returns null.
# The bookworm-backports build works. It is fetched through a private apt view (scratch
# sources, lists and cache; the system's apt state is untouched), unpacked with dpkg-deb,
# and described by an ICD json. Its library dependencies and the Vulkan loader come from
# Debian stable: `apt-get install libvulkan1 mesa-vulkan-drivers`.
#
# Idempotent: when the pinned version is already unpacked it only prints the env line.
# Usage: eval "$(bash scripts/setup-lavapipe.sh)"   (prints `export VK_ICD_FILENAMES=... NODEVICE_SELECT=1`)
set -euo pipefail

VERSION="${GRU_LAVAPIPE_VERSION:-25.0.7-2~bpo12+1}"
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/.vulkan"
icd="$dest/lvp_icd.json"
stamp="$dest/version"

# A driver chosen by the user (a real GPU's, say) wins; the vitest config leaves it alone too.
if [ -n "${VK_ICD_FILENAMES:-}" ]; then
  echo "setup-lavapipe: VK_ICD_FILENAMES is set ($VK_ICD_FILENAMES); using that driver" >&2
  exit 0
fi
if [ "$(uname -sm)" != "Linux x86_64" ]; then
  echo "setup-lavapipe: this fetches Debian's amd64 lavapipe; on $(uname -sm) set VK_ICD_FILENAMES to a Vulkan driver instead." >&2
  exit 1
fi

if [ -f "$icd" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$VERSION" ] && [ -f "$dest/lib/libvulkan_lvp.so" ]; then
  echo "export VK_ICD_FILENAMES=$icd NODEVICE_SELECT=1"
  exit 0
fi

for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "setup-lavapipe: '$tool' not found; this script needs Debian's apt (bookworm)." >&2; exit 1; }
done
if [ ! -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] && [ ! -e /lib/x86_64-linux-gnu/libvulkan.so.1 ]; then
  echo "setup-lavapipe: the Vulkan loader is missing; install Debian's libvulkan1 and mesa-vulkan-drivers first." >&2
  exit 1
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/sources.d" "$scratch/lists/partial" "$scratch/cache/archives/partial"
cat > "$scratch/sources.d/backports.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt_view=(-o Dir::Etc::sourcelist=/dev/null -o "Dir::Etc::sourceparts=$scratch/sources.d"
  -o "Dir::State::Lists=$scratch/lists" -o "Dir::Cache=$scratch/cache" -o APT::Sandbox::User=root)

echo "setup-lavapipe: fetching mesa-vulkan-drivers=$VERSION from bookworm-backports" >&2
apt-get "${apt_view[@]}" update -qq >&2
(cd "$scratch" && apt-get "${apt_view[@]}" download -qq "mesa-vulkan-drivers=$VERSION" >&2) || {
  echo "setup-lavapipe: mesa-vulkan-drivers=$VERSION is not in bookworm-backports any more;" >&2
  echo "  available: $(apt-cache "${apt_view[@]}" madison mesa-vulkan-drivers | awk '{print $3}' | tr '\n' ' ')" >&2
  echo "  set GRU_LAVAPIPE_VERSION to one of them (and update the pin in this script)." >&2
  exit 1
}
dpkg-deb -x "$scratch"/mesa-vulkan-drivers_*.deb "$scratch/root"

rm -rf "$dest"
mkdir -p "$dest/lib"
cp "$scratch/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" "$dest/lib/"
api="$(sed -n 's/.*"api_version": *"\([0-9.]*\)".*/\1/p' "$scratch/root/usr/share/vulkan/icd.d/lvp_icd.json" | head -1)"
cat > "$icd" <<JSON
{"file_format_version": "1.0.1", "ICD": {"library_path": "$dest/lib/libvulkan_lvp.so", "library_arch": "64", "api_version": "${api:-1.4.305}"}}
JSON
echo "$VERSION" > "$stamp"
echo "setup-lavapipe: lavapipe $VERSION in $dest" >&2
echo "export VK_ICD_FILENAMES=$icd NODEVICE_SELECT=1"
