// The process's resident memory (now and at its peak), as the operating system counts it.
#pragma once

#include <cstddef>

namespace inkling::detail {

// Bytes; 0 if the system cannot tell. Linux: VmHWM of /proc/self/status; macOS: mach
// task_info's resident_size_max; Windows: GetProcessMemoryInfo's PeakWorkingSetSize;
// other POSIX systems: getrusage's ru_maxrss.
std::size_t peak_rss_bytes() noexcept;

// Bytes resident now; 0 if the system cannot tell. Linux: VmRSS; macOS: task_info's
// resident_size; Windows: WorkingSetSize.
std::size_t current_rss_bytes() noexcept;

}  // namespace inkling::detail
