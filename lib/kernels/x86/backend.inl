// The x86 backend: one source, included by backend_avx2.cpp and backend_avx512.cpp
// inside a per-ISA namespace, so the same kernels become an AVX2 and an AVX-512 version.
// Each format's kernels are in x86/<type>.inl, which ends with install_<type>(), the
// lines that put them into the table. Prefill tiles differ more than the rest between
// the two ISAs (VNNI, 32 vs 16 registers) and are written once per ISA, side by side.
//
// Expects, before inclusion: `using Arch = xsimd::...;` in the enclosing namespace.

#include "kernels/x86/common.inl"
#include "kernels/x86/activations.inl"
#include "kernels/x86/float.inl"
#include "kernels/x86/attention.inl"
#include "kernels/x86/encoder_ops.inl"
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#include "kernels/x86/tile_q8_avx512.inl"
#include "kernels/x86/tile_k_avx512.inl"
#else
#include "kernels/x86/tile_q8_avx2.inl"
#include "kernels/x86/tile_k_avx2.inl"
#endif
#include "kernels/x86/low_bit.inl"
#include "kernels/x86/q4_0.inl"
#include "kernels/x86/rows8.inl"
#include "kernels/x86/q4_1.inl"
#include "kernels/x86/q4_k.inl"
#include "kernels/x86/q5_0.inl"
#include "kernels/x86/q5_1.inl"
#include "kernels/x86/q5_k.inl"
#include "kernels/x86/q6_k.inl"
#include "kernels/x86/q8_0.inl"
#include "kernels/x86/klanes.inl"

KernelTable make_table() {
  KernelTable t = scalar_table();
  install_float(t);
  install_attention(t);
  install_encoder_ops(t);
  install_q2_k(t);
  install_q3_k(t);
  install_q4_0(t);
  install_rows8(t);
  install_q4_1(t);
  install_q4_k(t);
  install_q5_0(t);
  install_q5_1(t);
  install_q5_k(t);
  install_q6_k(t);
  install_q8_0(t);
  install_klanes(t);  // after Q4_K and Q6_K: sets their repack
  return t;
}
