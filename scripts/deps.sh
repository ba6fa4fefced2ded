#!/usr/bin/env bash
# Installs inkling's build and test dependencies from Debian 12 (non-interactive).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
PACKAGES=(build-essential cmake pkg-config libeigen3-dev libxsimd-dev doctest-dev
          libbenchmark-dev libutf8proc-dev
          libcpp-httplib-dev nlohmann-json3-dev   # inkling serve
          chromium curl                           # the visualizer's browser test
          libgtk-4-dev xvfb xauth)                # inkling-desktop and its test under Xvfb
# The Rust and Go examples need a toolchain; Debian's are used when none is installed.
command -v cargo >/dev/null 2>&1 || PACKAGES+=(cargo)
command -v go >/dev/null 2>&1 || PACKAGES+=(golang-go)
# The browser test drives Chromium from Node (playwright-core, installed by npm ci).
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "inkling: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
