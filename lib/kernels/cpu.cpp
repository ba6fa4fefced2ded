// Run-time CPU detection: our own CPUID + XGETBV, because a vector unit is only usable
// when the OS saves its registers (xsimd 8's detection does not check this).
#include <cpuid.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512vnni = false, avx512bf16 = false, amx = false;
  bool os_ymm = false, os_zmm = false;
  std::string brand;
};

std::uint64_t xgetbv0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

CpuFeatures read_features() {
  CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  if (osxsave) {
    const std::uint64_t xcr0 = xgetbv0();
    f.os_ymm = (xcr0 & 0x6) == 0x6;
    f.os_zmm = f.os_ymm && (xcr0 & 0xE0) == 0xE0;
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = b & (1u << 5);
    f.bmi2 = b & (1u << 8);
    f.avx512f = b & (1u << 16);
    f.avx512dq = b & (1u << 17);
    f.avx512bw = b & (1u << 30);
    f.avx512vl = b & (1u << 31);
    f.avx512vnni = c & (1u << 11);
    f.amx = (d & (1u << 24)) && (d & (1u << 25));
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512bf16 = a & (1u << 5);
  unsigned regs[12];
  if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
    for (unsigned i = 0; i < 3; ++i)
      __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    char brand[49] = {};
    std::memcpy(brand, regs, 48);
    f.brand = brand;
    while (!f.brand.empty() && f.brand.back() == ' ') f.brand.pop_back();
    while (!f.brand.empty() && f.brand.front() == ' ') f.brand.erase(0, 1);
  }
  return f;
}

Isa hardware_isa(const CpuFeatures& f) {
  const bool avx2 = f.os_ymm && f.avx2 && f.fma && f.f16c && f.bmi2;
  const bool avx512 = avx2 && f.os_zmm && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl &&
                      f.avx512vnni;
  return avx512 ? Isa::Avx512 : avx2 ? Isa::Avx2 : Isa::Scalar;
}

}  // namespace

std::string_view isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

bool isa_supported(Isa isa) noexcept {
  return static_cast<int>(isa) <= static_cast<int>(hardware_isa(read_features()));
}

Isa detect_isa() noexcept {
  Isa isa = hardware_isa(read_features());
  // The override can only lower the level: code for an ISA the CPU lacks would crash.
  if (const char* env = std::getenv("INKLING_ISA")) {
    for (Isa candidate : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
      if (isa_name(candidate) == env && static_cast<int>(candidate) < static_cast<int>(isa))
        isa = candidate;
  }
  return isa;
}

std::string cpu_description() {
  const CpuFeatures f = read_features();
  std::string s = f.brand.empty() ? "unknown CPU" : f.brand;
  s += " [";
  s += isa_name(detect_isa());
  const std::pair<bool, const char*> extras[] = {
      {f.avx2 && f.os_ymm, " avx2"},         {f.avx512f && f.os_zmm, " avx512f"},
      {f.avx512vnni && f.os_zmm, " avx512_vnni"}, {f.avx512bf16 && f.os_zmm, " avx512_bf16"},
      {f.amx, " amx"}};
  for (auto [on, name] : extras)
    if (on) s += name;
  return s + "]";
}

}  // namespace inkling::kernels
