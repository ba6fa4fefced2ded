#include "inkling/tensor.hpp"

#include <cctype>

namespace inkling {
namespace {

struct TraitsEntry {
  std::uint32_t id;
  DTypeTraits traits;
};

// Block layouts as ggml defines them (REFERENCE.md §1.6); removed ids are absent.
constexpr TraitsEntry kTable[] = {
    {0, {"F32", 1, 4}},        {1, {"F16", 1, 2}},         {2, {"Q4_0", 32, 18}},
    {3, {"Q4_1", 32, 20}},     {6, {"Q5_0", 32, 22}},      {7, {"Q5_1", 32, 24}},
    {8, {"Q8_0", 32, 34}},     {9, {"Q8_1", 32, 36}},      {10, {"Q2_K", 256, 84}},
    {11, {"Q3_K", 256, 110}},  {12, {"Q4_K", 256, 144}},   {13, {"Q5_K", 256, 176}},
    {14, {"Q6_K", 256, 210}},  {15, {"Q8_K", 256, 292}},   {16, {"IQ2_XXS", 256, 66}},
    {17, {"IQ2_XS", 256, 74}}, {18, {"IQ3_XXS", 256, 98}}, {19, {"IQ1_S", 256, 50}},
    {20, {"IQ4_NL", 32, 18}},  {21, {"IQ3_S", 256, 110}},  {22, {"IQ2_S", 256, 82}},
    {23, {"IQ4_XS", 256, 136}}, {24, {"I8", 1, 1}},        {25, {"I16", 1, 2}},
    {26, {"I32", 1, 4}},       {27, {"I64", 1, 8}},        {28, {"F64", 1, 8}},
    {29, {"IQ1_M", 256, 56}},  {30, {"BF16", 1, 2}},       {34, {"TQ1_0", 256, 54}},
    {35, {"TQ2_0", 256, 66}},
};

}  // namespace

std::optional<DTypeTraits> dtype_traits(std::uint32_t raw_type) noexcept {
  for (const auto& e : kTable)
    if (e.id == raw_type) return e.traits;
  return std::nullopt;
}

DTypeTraits dtype_traits(DType type) noexcept {
  auto t = dtype_traits(static_cast<std::uint32_t>(type));
  return t ? *t : DTypeTraits{"?", 1, 0};
}

std::string_view dtype_name(DType type) noexcept { return dtype_traits(type).name; }

std::int64_t dtype_row_bytes(DType type, std::int64_t elems) noexcept {
  const DTypeTraits t = dtype_traits(type);
  return elems / t.block_elems * t.block_bytes;
}

std::optional<DType> dtype_from_name(std::string_view name) noexcept {
  for (const auto& e : kTable) {
    if (e.traits.name.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i)
      same = std::toupper(static_cast<unsigned char>(name[i])) == e.traits.name[i];
    if (same) return static_cast<DType>(e.id);
  }
  return std::nullopt;
}

}  // namespace inkling
