// Q5_K weights (formats/q5_k.hpp) against Q8_K activations; decode and prefill tiles in
// tile_k_avx512.inl / tile_k_avx2.inl.

// One row against one token: the prefill tile at its smallest size, so decode shares
// its vector unpacking (512-bit with AVX-512) instead of a separate 256-bit loop.
float dot_q5_k(std::int64_t k, const void* w, const void* a) {
  float y = 0;
  TileQ45K<true>::tile<1, 1>(k / kQKK, static_cast<const std::byte*>(w), 0, static_cast<const std::byte*>(a), 0, &y, 1);
  return y;
}


void install_q5_k(KernelTable& t) {
  WeightKernels& e = t.at(DType::Q5_K);
  e.quantize = quantize_q8_k;
  e.vec_dot = dot_q5_k;
  e.gemm = gemm_k<TileQ45K<true>, kKTileRows, 4>;
}
