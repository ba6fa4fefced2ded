#!/usr/bin/env bash
# Installs inkling from the build tree into a scratch prefix and builds inkling-desktop
# against it as a third-party app would (pkg-config), plus the screenshot checker.
# usage: tests/desktop/build.sh BUILD_DIR WORK_DIR
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(realpath "$1")"
work="$(realpath -m "$2")"
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
pkg-config --exists inkling || { echo "build.sh: the installed prefix has no inkling.pc" >&2; exit 1; }
cmake -S "$src/examples/desktop" -B "$work/app" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/app" -j2 -- --no-print-directory
# The app must find the installed library, not the build tree's.
found="$(ldd "$work/app/inkling-desktop" | awk '/libinkling/ {print $3}')"
[ -n "$found" ] && [ "$(realpath "$found")" = "$(realpath "$work/prefix/lib/$(basename "$found")")" ] \
  || { echo "build.sh: inkling-desktop does not link the installed library (found '$found')" >&2; exit 1; }
cc -std=c11 -Wall -Wextra -o "$work/png_check" "$src/tests/desktop/png_check.c" \
   $(pkg-config --cflags --libs gdk-pixbuf-2.0)
echo "build.sh: built $work/app/inkling-desktop against $(pkg-config --variable=libdir inkling)"
