// The public face of the kernels' CPU detection and bandwidth probe (lib/kernels), so
// programs need no internal header to describe the machine.
#include "inkling/system.hpp"

#include <string>

#include "inkling/error.hpp"
#include "kernels/kernels.hpp"

namespace inkling {

CpuInfo cpu_info() {
  CpuInfo info;
  info.isa = std::string(kernels::isa_name(kernels::detect_isa()));
  info.description = kernels::cpu_description();
  return info;
}

double memory_bandwidth_gbs(int threads, std::size_t bytes_per_array, int repetitions) {
  if (threads < 1) throw Error(ErrorCode::InvalidArgument, "memory_bandwidth_gbs: threads must be >= 1, got " + std::to_string(threads));
  if (repetitions < 1)
    throw Error(ErrorCode::InvalidArgument, "memory_bandwidth_gbs: repetitions must be >= 1, got " + std::to_string(repetitions));
  if (bytes_per_array < 4096)
    throw Error(ErrorCode::InvalidArgument,
                "memory_bandwidth_gbs: bytes_per_array must be >= 4096, got " + std::to_string(bytes_per_array));
  return kernels::triad_bandwidth(threads, bytes_per_array, repetitions);
}

}  // namespace inkling
