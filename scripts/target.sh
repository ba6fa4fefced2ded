# Sourced by build.sh, test.sh and deps.sh: what INKLING_TARGET means.
#   (unset) or native     this machine, into ./build
#   aarch64-linux-gnu     64-bit ARM Linux (Debian's cross g++ and arm64 libraries), into
#                         ./build-aarch64-linux-gnu; tests run under qemu-aarch64
#   x86_64-w64-mingw32    64-bit Windows (MinGW-w64), into ./build-x86_64-w64-mingw32;
#                         tests run under wine
# INKLING_BUILD_DIR overrides the folder. Sets INKLING_TARGET, BUILD_DIR and TARGET_ARGS
# (extra arguments for cmake's configure step).
INKLING_TARGET="${INKLING_TARGET:-native}"
case "$INKLING_TARGET" in
  native)
    BUILD_DIR="${INKLING_BUILD_DIR:-build}"
    TARGET_ARGS=()
    ;;
  aarch64-linux-gnu)
    BUILD_DIR="${INKLING_BUILD_DIR:-build-aarch64-linux-gnu}"
    TARGET_ARGS=(-DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake)
    ;;
  x86_64-w64-mingw32)
    BUILD_DIR="${INKLING_BUILD_DIR:-build-x86_64-w64-mingw32}"
    # Debian has no MinGW builds of cpp-httplib or Google Benchmark: no `inkling serve`
    # and no benchmark programs on Windows; utf8proc is compiled from its Debian source.
    TARGET_ARGS=(-DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-x86_64-w64-mingw32.cmake
                 -DINKLING_SERVER=OFF -DINKLING_BUILD_BENCH=OFF
                 "-DINKLING_UTF8PROC_SOURCE_DIR=$(pwd)/$BUILD_DIR/_deps/utf8proc")
    ;;
  *)
    echo "inkling: unknown INKLING_TARGET '$INKLING_TARGET' (native, aarch64-linux-gnu or x86_64-w64-mingw32)" >&2
    exit 2
    ;;
esac
