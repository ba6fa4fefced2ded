#!/usr/bin/env bash
# Builds the whole tree with clang-14 and LLVM's libc++ (instead of GCC's libstdc++, as
# on macOS) into ./build-libcxx with -Werror, so code that only libstdc++ accepts is
# caught on Linux, then runs the unit and conformance tests of that build.
# Debian's Google Benchmark and cpp-httplib are compiled against libstdc++, so programs
# that link them (the benchmarks, `inkling` with `inkling serve`, the HTTP test) cannot
# link here: their sources are compiled all the same and only their links may fail.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${INKLING_SHARED:-$(cd .. && pwd)/shared}"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
missing=()
for p in clang-14 libc++-14-dev libc++abi-14-dev libomp-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
BUILD=build-libcxx
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS="-stdlib=libc++ -Werror" -DCMAKE_C_FLAGS="-Werror" \
  -DCMAKE_EXE_LINKER_FLAGS="-stdlib=libc++" -DCMAKE_SHARED_LINKER_FLAGS="-stdlib=libc++" \
  -DINKLING_SHARED_DIR="$SHARED" >/dev/null
log="$BUILD/build.log"
cmake --build "$BUILD" -j"$(nproc)" -- -k >"$log" 2>&1 || true
if grep -E ":[0-9]+:[0-9]+: (warning|error):" "$log"; then
  echo "clang/libc++ build: compiler warnings or errors (above; full log in $log)" >&2
  exit 1
fi
# Every failed step must be the link of a program that uses a libstdc++-built library.
failed=$(grep -oE "\*\*\* \[[^]]*build.make:[0-9]+: [^]]+\]" "$log" | sed -E 's/.*: ([^]]+)\]$/\1/' | sort -u || true)
for f in $failed; do
  case "$(basename "$f")" in
    inkling|test_server|bench_*) ;;
    *) echo "clang/libc++ build: $f failed (log: $log)" >&2; exit 1 ;;
  esac
done
echo "clang/libc++ build: every source compiled warning-free; not linked (libstdc++-built Debian libraries): ${failed:-none}"
export INKLING_SHARED="$SHARED"
ctest --test-dir "$BUILD" --output-on-failure -j2 -R "^test_" -E "^test_server$"
