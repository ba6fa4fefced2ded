# Every dependency comes from Debian; say which package to install when one is missing.
function(inkling_require pkg debian)
  find_package(${pkg} ${ARGN} QUIET)
  if(NOT ${pkg}_FOUND)
    message(FATAL_ERROR "inkling needs ${pkg}: install it with `apt-get install ${debian}`")
  endif()
endfunction()

# A header-only library from the build machine's /usr/include, for a Windows cross
# build: only its own folder (/usr/include/<dir>) is linked into the build tree
# (host-include/) and that is searched. /usr/include itself never is, with -I or even
# -idirafter: glibc's headers there (sys/mman.h, unistd.h, ...) would then be found
# where MinGW has none, and a POSIX-only include would compile against the wrong C
# library instead of failing. An imported target's folder is a system one (-isystem).
function(inkling_host_headers target dir header debian)
  if(NOT EXISTS /usr/include/${dir}/${header})
    message(FATAL_ERROR "inkling needs ${dir}/${header}: install it with `apt-get install ${debian}`")
  endif()
  set(root ${CMAKE_BINARY_DIR}/host-include)
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK /usr/include/${dir} ${root}/${dir} SYMBOLIC)
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${root})
endfunction()

if(WIN32 AND CMAKE_CROSSCOMPILING)
  inkling_host_headers(xsimd xsimd xsimd.hpp libxsimd-dev)
  # JSON Schema -> grammar reads the schema with nlohmann-json: a build dependency only,
  # nothing of it is installed or exported.
  inkling_host_headers(nlohmann_json::nlohmann_json nlohmann json.hpp nlohmann-json3-dev)
  if(INKLING_BUILD_TESTS)
    inkling_host_headers(doctest::doctest doctest doctest.h doctest-dev)
  endif()
else()
  inkling_require(xsimd libxsimd-dev)
  inkling_require(nlohmann_json nlohmann-json3-dev 3)
  if(INKLING_BUILD_TESTS)
    inkling_require(doctest doctest-dev)
  endif()
endif()
# MinGW: programs link their runtimes statically (the toolchain file's -static) so they
# run on a plain Windows; libgomp too, so find its archive, not the DLL's import library.
if(MINGW AND NOT OpenMP_gomp_LIBRARY)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libgomp.a
                  OUTPUT_VARIABLE _inkling_gomp OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(OpenMP_gomp_LIBRARY ${_inkling_gomp} CACHE FILEPATH "libgomp (static: MinGW programs link their runtimes statically)")
endif()
inkling_require(OpenMP "libomp-dev (or GCC's libgomp)")
inkling_require(Eigen3 libeigen3-dev)
if(INKLING_BUILD_BENCH)
  inkling_require(benchmark libbenchmark-dev)
endif()

# Unicode categories, case mapping and decomposition for the tokenizers: Debian's
# libutf8proc-dev, or, where Debian has no build for the target (Windows), utf8proc
# compiled into the library from Debian's source package (apt-get source utf8proc;
# scripts/deps.sh fetches it and passes -DINKLING_UTF8PROC_SOURCE_DIR).
set(INKLING_UTF8PROC_SOURCE_DIR "" CACHE PATH "utf8proc source tree to compile into inkling instead of linking libutf8proc")
add_library(inkling_utf8proc INTERFACE)
if(INKLING_UTF8PROC_SOURCE_DIR)
  if(NOT EXISTS ${INKLING_UTF8PROC_SOURCE_DIR}/utf8proc.c)
    message(FATAL_ERROR "INKLING_UTF8PROC_SOURCE_DIR=${INKLING_UTF8PROC_SOURCE_DIR} has no utf8proc.c")
  endif()
  # utf8proc.c includes utf8proc_data.c itself.
  set(INKLING_UTF8PROC_SOURCES ${INKLING_UTF8PROC_SOURCE_DIR}/utf8proc.c)
  set(UTF8PROC_LIBRARY "")
  target_include_directories(inkling_utf8proc INTERFACE ${INKLING_UTF8PROC_SOURCE_DIR})
  target_compile_definitions(inkling_utf8proc INTERFACE UTF8PROC_STATIC)
else()
  find_path(UTF8PROC_INCLUDE_DIR utf8proc.h)
  find_library(UTF8PROC_LIBRARY utf8proc)
  if(NOT UTF8PROC_INCLUDE_DIR OR NOT UTF8PROC_LIBRARY)
    message(FATAL_ERROR "inkling needs utf8proc: install it with `apt-get install libutf8proc-dev`")
  endif()
  target_include_directories(inkling_utf8proc INTERFACE ${UTF8PROC_INCLUDE_DIR})
  target_link_libraries(inkling_utf8proc INTERFACE ${UTF8PROC_LIBRARY})
endif()
