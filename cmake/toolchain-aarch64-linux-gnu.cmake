# Cross build for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu; libraries come
# from Debian's arm64 multiarch packages (dpkg --add-architecture arm64; scripts/deps.sh).
# Tests run under qemu-aarch64 (qemu-user); the CPU model comes from the environment
# variable QEMU_CPU (e.g. max: dot product + i8mm; cortex-a72: plain ARMv8.0 NEON).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# No -L /usr/aarch64-linux-gnu: the programs load Debian's multiarch libc6:arm64 (pulled
# in by the arm64 -dev packages) from /lib/aarch64-linux-gnu, and its libc.so.6 must
# come with its own dynamic loader, /lib/ld-linux-aarch64.so.1. The cross toolchain's
# loader in /usr/aarch64-linux-gnu is a different Debian revision of glibc, and that
# mix deadlocks in the first pthread_create.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
# Headers of the multiarch -dev packages stay in /usr/include; libraries are searched
# only in the arm64 folders, never the build machine's.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config reads the arm64 .pc files (cpp-httplib for `inkling serve`).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
