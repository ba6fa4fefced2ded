// What the machine offers the kernels: the CPU (its name, the instruction-set level the
// kernels run at and the vector features it reports) and the memory bandwidth that bounds
// decode speed (a token reads every weight once, so tokens/s <= GB/s / weight bytes).
#pragma once

#include <cstddef>
#include <string>

namespace inkling {

struct CpuInfo {
  // The kernel level a model loaded now would use: "scalar", "avx2" or "avx512" (the best
  // the CPU and OS support, lowered by the environment variable INKLING_ISA).
  std::string isa;
  // One line for logs and reports: the CPU's brand string, the level and the vector
  // features, e.g. "Intel(R) Xeon(R) ... [avx512 avx2 avx512f avx512_vnni]".
  std::string description;
};

// Reads CPUID (and XGETBV) now; cheap enough to call per report, not per token.
CpuInfo cpu_info();

// Memory bandwidth in GB/s: a STREAM triad (a = b + s*c) over three arrays of
// bytes_per_array each with `threads` threads (>= 1), the best of `repetitions` passes
// after a warm-up one. Allocates 3 * bytes_per_array; takes about a second at the
// defaults. Starts OpenMP threads: a program that forks afterwards should fork first.
// Error(InvalidArgument) for threads < 1, repetitions < 1 or arrays under 4 KiB.
double memory_bandwidth_gbs(int threads, std::size_t bytes_per_array = 64u << 20, int repetitions = 5);

}  // namespace inkling
