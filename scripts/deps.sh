#!/usr/bin/env bash
# Installs inkling's build and test dependencies from Debian 12 (non-interactive), for
# this machine or for the cross target INKLING_TARGET (see scripts/target.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/target.sh
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get)
PACKAGES=(build-essential cmake pkg-config libeigen3-dev libxsimd-dev doctest-dev)
case "$INKLING_TARGET" in
  native)
    PACKAGES+=(libbenchmark-dev libutf8proc-dev
               libcpp-httplib-dev nlohmann-json3-dev   # inkling serve, JSON Schema -> grammar
               python3 python3-jsonschema              # validates structured output in the tests
               chromium curl                           # the visualizer's browser test
               libgtk-4-dev xvfb xauth)                # inkling-desktop and its test under Xvfb
    # The Rust and Go examples need a toolchain; Debian's are used when none is installed.
    command -v cargo >/dev/null 2>&1 || PACKAGES+=(cargo)
    command -v go >/dev/null 2>&1 || PACKAGES+=(golang-go)
    # The browser test drives Chromium from Node (playwright-core, installed by npm ci).
    command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
    command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
    ;;
  aarch64-linux-gnu)
    # The cross compiler, qemu to run the tests, and the arm64 builds of the libraries
    # (Debian multiarch: the arm64 architecture is added to dpkg first).
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      $SUDO dpkg --add-architecture arm64
      $SUDO "${APT[@]}" update -qq
    fi
    PACKAGES+=(g++-aarch64-linux-gnu qemu-user nlohmann-json3-dev libc6:arm64
               libxsimd-dev:arm64 libutf8proc-dev:arm64 libbenchmark-dev:arm64 libcpp-httplib-dev:arm64)
    ;;
  x86_64-w64-mingw32)
    # MinGW-w64 with POSIX threads (std::thread, OpenMP) and wine to run the tests.
    PACKAGES+=(g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix wine64 dpkg-dev)
    ;;
esac
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "inkling: installing ${missing[*]}"
  $SUDO "${APT[@]}" update -qq
  $SUDO "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}"
fi

# Windows: Debian has no MinGW build of utf8proc, so its source package is unpacked into
# the build folder and compiled into the library (cmake/InklingDependencies.cmake).
# apt-get source needs a deb-src entry; one for Debian 12 is added when there is none.
if [ "$INKLING_TARGET" = "x86_64-w64-mingw32" ] && [ ! -f "$BUILD_DIR/_deps/utf8proc/utf8proc.c" ]; then
  if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
      $SUDO tee /etc/apt/sources.list.d/inkling-deb-src.sources >/dev/null
    $SUDO "${APT[@]}" update -qq
  fi
  mkdir -p "$BUILD_DIR/_deps/src"
  (cd "$BUILD_DIR/_deps/src" && apt-get source -qq utf8proc >/dev/null)
  rm -rf "$BUILD_DIR/_deps/utf8proc"
  mv "$(find "$BUILD_DIR/_deps/src" -maxdepth 1 -type d -name 'utf8proc-*' | head -n 1)" "$BUILD_DIR/_deps/utf8proc"
  rm -rf "$BUILD_DIR/_deps/src"
fi
