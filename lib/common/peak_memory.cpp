#include "common/peak_memory.hpp"

#if defined(_WIN32)
#include "common/windows_api.hpp"
// windows.h first: psapi.h uses its types.
#include <psapi.h>
#elif defined(__APPLE__)
#include <mach/mach.h>
#else
#include <sys/resource.h>
#endif

#include <cstdio>
#include <cstring>

namespace inkling::detail {

#if defined(_WIN32)

std::size_t peak_rss_bytes() noexcept {
  PROCESS_MEMORY_COUNTERS c{};
  c.cb = sizeof c;
  if (!GetProcessMemoryInfo(GetCurrentProcess(), &c, sizeof c)) return 0;
  return static_cast<std::size_t>(c.PeakWorkingSetSize);
}

std::size_t current_rss_bytes() noexcept {
  PROCESS_MEMORY_COUNTERS c{};
  c.cb = sizeof c;
  if (!GetProcessMemoryInfo(GetCurrentProcess(), &c, sizeof c)) return 0;
  return static_cast<std::size_t>(c.WorkingSetSize);
}

#elif defined(__APPLE__)

mach_task_basic_info_data_t task_memory() noexcept {
  mach_task_basic_info_data_t info{};
  mach_msg_type_number_t count = MACH_TASK_BASIC_INFO_COUNT;
  if (task_info(mach_task_self(), MACH_TASK_BASIC_INFO, reinterpret_cast<task_info_t>(&info), &count) != KERN_SUCCESS)
    return {};
  return info;
}

std::size_t peak_rss_bytes() noexcept { return static_cast<std::size_t>(task_memory().resident_size_max); }

std::size_t current_rss_bytes() noexcept { return static_cast<std::size_t>(task_memory().resident_size); }

#else

// A "Key: N kB" line of /proc/self/status in bytes, or 0 (no /proc, no such line).
std::size_t proc_status_kib(const char* key) noexcept {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  const std::size_t key_len = std::strlen(key);
  char line[256];
  unsigned long long kib = 0;
  bool found = false;
  while (!found && std::fgets(line, sizeof line, f))
    found = std::strncmp(line, key, key_len) == 0 && std::sscanf(line + key_len, " %llu kB", &kib) == 1;
  std::fclose(f);
  return found ? static_cast<std::size_t>(kib) * 1024 : 0;
}

// VmHWM ("high water mark") is the kernel's own peak RSS; if /proc is not mounted,
// getrusage's ru_maxrss (KiB on Linux and the BSDs).
std::size_t peak_rss_bytes() noexcept {
  if (const std::size_t b = proc_status_kib("VmHWM:")) return b;
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return static_cast<std::size_t>(u.ru_maxrss) * 1024;
}

std::size_t current_rss_bytes() noexcept { return proc_status_kib("VmRSS:"); }

#endif

}  // namespace inkling::detail
