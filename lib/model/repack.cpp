// Repacking weights at load into the layouts the kernels read fastest (e.g. Q4_0 in
// groups of 8 interleaved rows, kernels/formats/q4_0_rows8.hpp).
//
// In place, never a second copy: the tensor's pages are made writable and rewritten.
// With use_mmap (a MAP_PRIVATE mapping) each rewritten page becomes a private copy: the
// process's resident memory stays one copy of the weights, but those pages are no longer
// file-backed (the kernel cannot drop and re-read them under memory pressure, other
// processes mapping the same file do not share them, and loading reads them all up
// front). Tensors the kernels use as stored stay mapped and lazily loaded. The file's
// own TensorView records the layout, so Model::file() shows what its bytes now are.
// On Windows the mapping is a copy-on-write view (FILE_MAP_COPY, gguf/mapped_file.cpp)
// and the same happens through VirtualProtect.
#if defined(_WIN32)
#include "common/windows_api.hpp"
#else
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <cstdint>
#include <vector>

#include "kernels/kernels.hpp"
#include "model/weights.hpp"

namespace inkling::detail {
namespace {

#if defined(_WIN32)
// A mapped view's pages become copy-on-write; heap pages (a file read into memory) are
// writable already, where PAGE_WRITECOPY is refused: they are left as they are.
bool make_writable(const std::byte* data, std::size_t bytes) {
  MEMORY_BASIC_INFORMATION info{};
  if (VirtualQuery(data, &info, sizeof info) == 0) return false;
  if (info.Type != MEM_MAPPED) return info.Protect == PAGE_READWRITE;
  DWORD old = 0;
  return VirtualProtect(const_cast<std::byte*>(data), bytes, PAGE_WRITECOPY, &old) != 0;
}
#else
bool make_writable(const std::byte* data, std::size_t bytes) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(data) / page * page;
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes + page - 1) / page * page;
  return ::mprotect(reinterpret_cast<void*>(begin), end - begin, PROT_READ | PROT_WRITE) == 0;
}
#endif

void repack_one(const TensorView* t, kernels::Isa isa) {
  if (!t || t->layout != 0) return;  // absent, or already repacked by another Model
  const std::uint32_t layout = kernels::repack_layout(isa, t->type);
  if (layout == 0 || !make_writable(t->data, t->bytes)) return;  // keep the stored layout
  // The view is the GgufFile's own entry (not a const object): it names the new layout.
  auto* view = const_cast<TensorView*>(t);
  kernels::repack(isa, *view, const_cast<std::byte*>(t->data));
  view->layout = layout;
}

// A 3-D expert tensor, one expert at a time (its rows8 groups never span two experts,
// and a last partial group of each expert stays plain, as in a 2-D tensor); the
// expert views, copies of the entry made at binding, then take its layout.
void repack_experts(const TensorView* whole, std::vector<TensorView>& views, kernels::Isa isa) {
  if (!whole || views.empty()) return;
  if (whole->layout == 0) {  // else another Model repacked the file's bytes already
    const std::uint32_t layout = kernels::repack_layout(isa, whole->type);
    if (layout == 0 || !make_writable(whole->data, whole->bytes)) return;
    for (const TensorView& v : views) kernels::repack(isa, v, const_cast<std::byte*>(v.data));
    const_cast<TensorView*>(whole)->layout = layout;
  }
  for (TensorView& v : views) v.layout = whole->layout;
}

}  // namespace

void repack_weights(Weights& w, kernels::Isa isa) {
  for (LayerWeights& l : w.layers) {
    for (const TensorView* t : {l.wqkv, l.wq, l.wk, l.wv, l.wo, l.w_gate, l.w_up, l.w_down}) repack_one(t, isa);
    repack_experts(l.exps_tensors[0], l.gate_exps, isa);
    repack_experts(l.exps_tensors[1], l.up_exps, isa);
    repack_experts(l.exps_tensors[2], l.down_exps, isa);
  }
  // A tied output head is the embedding table, whose rows are read one by one.
  if (w.output != w.token_embd) repack_one(w.output, isa);
}

}  // namespace inkling::detail
