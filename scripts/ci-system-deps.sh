#!/usr/bin/env bash
# Installs Debian packages that tests need when they are missing. Each backend package that
# needs one adds it here, with the reason.
set -euo pipefail
need=()
# (none yet)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi
