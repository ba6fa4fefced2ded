// Run-time CPU detection. x86: our own CPUID + XGETBV, because a vector unit is only
// usable when the OS saves its registers (xsimd 8's detection does not check this).
// ARM64: what the OS reports (getauxval on Linux, sysctl on macOS), since the feature
// registers are not readable from user space everywhere. Any other CPU gets the scalar
// table.
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "kernels/kernel_table.hpp"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define INKLING_CPU_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#include <immintrin.h>
#else
#include <cpuid.h>
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
#define INKLING_CPU_ARM64 1
#if defined(__linux__)
#include <sys/auxv.h>
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#elif defined(_WIN32)
#include <windows.h>
#endif
#endif

namespace inkling::kernels {
namespace {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512vnni = false, avx512bf16 = false, amx = false;
  bool os_ymm = false, os_zmm = false;
  bool neon = false, fp16 = false, dotprod = false, i8mm = false, bf16 = false, sve = false;
  std::string brand;
};

#if defined(INKLING_CPU_X86)
// cpuid(leaf, subleaf) into r[0..3] = eax, ebx, ecx, edx; false if the leaf is absent.
bool cpuid(unsigned leaf, unsigned subleaf, unsigned r[4]) {
#if defined(_MSC_VER)
  int max[4], out[4];
  __cpuid(max, static_cast<int>(leaf & 0x80000000u));
  if (static_cast<unsigned>(max[0]) < leaf) return false;
  __cpuidex(out, static_cast<int>(leaf), static_cast<int>(subleaf));
  for (int i = 0; i < 4; ++i) r[i] = static_cast<unsigned>(out[i]);
  return true;
#else
  return __get_cpuid_count(leaf, subleaf, &r[0], &r[1], &r[2], &r[3]) != 0;
#endif
}

std::uint64_t xgetbv0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
#endif
}

CpuFeatures read_features() {
  CpuFeatures f;
  unsigned r[4];
  if (!cpuid(1, 0, r)) return f;
  const bool osxsave = r[2] & (1u << 27);
  f.fma = r[2] & (1u << 12);
  f.f16c = r[2] & (1u << 29);
  if (osxsave) {
    const std::uint64_t xcr0 = xgetbv0();
    f.os_ymm = (xcr0 & 0x6) == 0x6;
    f.os_zmm = f.os_ymm && (xcr0 & 0xE0) == 0xE0;
  }
  if (cpuid(7, 0, r)) {
    f.avx2 = r[1] & (1u << 5);
    f.bmi2 = r[1] & (1u << 8);
    f.avx512f = r[1] & (1u << 16);
    f.avx512dq = r[1] & (1u << 17);
    f.avx512bw = r[1] & (1u << 30);
    f.avx512vl = r[1] & (1u << 31);
    f.avx512vnni = r[2] & (1u << 11);
    f.amx = (r[3] & (1u << 24)) && (r[3] & (1u << 25));
  }
  if (cpuid(7, 1, r)) f.avx512bf16 = r[0] & (1u << 5);
  unsigned regs[12];
  if (cpuid(0x80000000u, 0, r) && r[0] >= 0x80000004u) {
    for (unsigned i = 0; i < 3; ++i) cpuid(0x80000002u + i, 0, &regs[4 * i]);
    char brand[49] = {};
    std::memcpy(brand, regs, 48);
    f.brand = brand;
    while (!f.brand.empty() && f.brand.back() == ' ') f.brand.pop_back();
    while (!f.brand.empty() && f.brand.front() == ' ') f.brand.erase(0, 1);
  }
  return f;
}

#elif defined(INKLING_CPU_ARM64)

#if defined(__APPLE__)
bool sysctl_flag(const char* name) {
  int value = 0;
  std::size_t size = sizeof value;
  return sysctlbyname(name, &value, &size, nullptr, 0) == 0 && value != 0;
}
#endif

CpuFeatures read_features() {
  CpuFeatures f;
  f.neon = true;  // Advanced SIMD is mandatory in ARMv8-A
#if defined(__linux__)
  // Bit numbers from the kernel's uapi/asm/hwcap.h (stable ABI), spelled out so that an
  // older libc header without the newer names still builds.
  const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
  f.fp16 = (hwcap & (1ul << 9)) && (hwcap & (1ul << 10));  // FPHP + ASIMDHP
  f.dotprod = hwcap & (1ul << 20);                        // ASIMDDP
  f.sve = hwcap & (1ul << 22);                            // SVE
  f.i8mm = hwcap2 & (1ul << 13);                          // I8MM
  f.bf16 = hwcap2 & (1ul << 14);                          // BF16
#elif defined(__APPLE__)
  f.fp16 = sysctl_flag("hw.optional.arm.FEAT_FP16");
  f.dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd");
  f.i8mm = sysctl_flag("hw.optional.arm.FEAT_I8MM");
  f.bf16 = sysctl_flag("hw.optional.arm.FEAT_BF16");
  char brand[128] = {};
  std::size_t size = sizeof brand - 1;
  if (sysctlbyname("machdep.cpu.brand_string", brand, &size, nullptr, 0) == 0) f.brand = brand;
#elif defined(_WIN32)
  f.dotprod = IsProcessorFeaturePresent(43);  // PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE
#endif
  if (f.brand.empty()) f.brand = "ARM64";
  return f;
}

#else

CpuFeatures read_features() { return {}; }

#endif

Isa hardware_isa(const CpuFeatures& f) {
  if (f.neon) return f.dotprod && f.i8mm ? Isa::NeonI8mm : f.dotprod ? Isa::NeonDot : Isa::Neon;
  const bool avx2 = f.os_ymm && f.avx2 && f.fma && f.f16c && f.bmi2;
  const bool avx512 = avx2 && f.os_zmm && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl &&
                      f.avx512vnni;
  return avx512 ? Isa::Avx512 : avx2 ? Isa::Avx2 : Isa::Scalar;
}

// The family's levels, lowest first; Scalar is below every family.
bool runs_on(Isa wanted, Isa hardware) {
  if (wanted == Isa::Scalar) return true;
  const auto family = [](Isa i) { return i == Isa::Avx2 || i == Isa::Avx512 ? 1 : i == Isa::Scalar ? 0 : 2; };
  return family(wanted) == family(hardware) && static_cast<int>(wanted) <= static_cast<int>(hardware);
}

}  // namespace

std::string_view isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
    case Isa::NeonDot: return "dotprod";
    case Isa::NeonI8mm: return "i8mm";
  }
  return "?";
}

bool isa_supported(Isa isa) noexcept { return runs_on(isa, hardware_isa(read_features())); }

Isa detect_isa() noexcept {
  Isa isa = hardware_isa(read_features());
  // The override can only lower the level: code for an ISA the CPU lacks would crash.
  if (const char* env = std::getenv("INKLING_ISA")) {
    for (Isa candidate : kAllIsas)
      if (isa_name(candidate) == env && candidate != isa && runs_on(candidate, isa)) isa = candidate;
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
      {f.amx, " amx"}, {f.fp16, " fp16"}, {f.dotprod, " dotprod"}, {f.i8mm, " i8mm"},
      {f.bf16, " bf16"}, {f.sve, " sve"}};
  for (auto [on, name] : extras)
    if (on) s += name;
  return s + "]";
}

}  // namespace inkling::kernels
