// Q2_K and Q3_K weights (formats/q2_k.hpp, q3_k.hpp) against Q8_K activations; decode
// and prefill tiles (TileQ23K) in tile_k_avx512.inl / tile_k_avx2.inl.

// One row against one token: the prefill tile at its smallest size, so decode shares
// its vector unpacking (512-bit with AVX-512).
template <bool Q3>
float dot_q23_k(std::int64_t k, const void* w, const void* a) {
  float y = 0;
  TileQ23K<Q3>::template tile<1, 1>(k / kQKK, static_cast<const std::byte*>(w), 0, static_cast<const std::byte*>(a), 0, &y, 1);
  return y;
}

void install_q2_k(KernelTable& t) {
  WeightKernels& e = t.at(DType::Q2_K);
  e.quantize = quantize_q8_k;
  e.vec_dot = dot_q23_k<false>;
  e.gemm = gemm_k<TileQ23K<false>, kKTileRows, 4>;
}

void install_q3_k(KernelTable& t) {
  WeightKernels& e = t.at(DType::Q3_K);
  e.quantize = quantize_q8_k;
  e.vec_dot = dot_q23_k<true>;
  e.gemm = gemm_k<TileQ23K<true>, kKTileRows, 4>;
}
