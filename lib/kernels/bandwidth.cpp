// A STREAM-style triad, the yardstick for decode: a token reads every weight once, so
// tokens/s cannot exceed bandwidth / bytes of weights.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "kernels/kernels.hpp"

namespace inkling::kernels {

double triad_bandwidth(int threads, std::size_t bytes_per_array, int repetitions) {
  const std::size_t n = bytes_per_array / sizeof(float);
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  double best = 0;
  for (int r = 0; r < repetitions + 1; ++r) {  // the first pass faults the pages in
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + 3.0f * c[i];
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r > 0 && s > 0) best = std::max(best, 3.0 * static_cast<double>(n * sizeof(float)) / s / 1e9);
  }
  // Keep the stores observable so the loop is not dropped.
  volatile float sink = a[n / 2];
  (void)sink;
  return best;
}

}  // namespace inkling::kernels
