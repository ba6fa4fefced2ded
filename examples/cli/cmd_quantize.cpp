// `inkling quantize`: convert a model file's weight matrices to another type.
#include <cstdio>
#include <string>

#include "args.hpp"
#include "commands.hpp"
#include "inkling/error.hpp"
#include "inkling/quantize.hpp"

int cmd_quantize(int argc, char** argv) {
  std::string in, out, type_name;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) {
      std::puts(
          "usage: inkling quantize -m IN.gguf -o OUT.gguf --type TYPE\n"
          "\n"
          "Writes the same model with every weight matrix converted to TYPE: f32, f16, bf16, q8_0\n"
          "or q4_0 (1-D tensors such as norms, and matrices whose rows are not a multiple of the\n"
          "type's block, are copied as they are). Metadata and vocabulary are copied. Typical use:\n"
          "a Q4_0 copy of a model as its own draft for speculative decoding (inkling run --draft).");
      return 0;
    }
    if (a.is("-m", "--model")) in = a.value();
    else if (a.is("-o", "--output")) out = a.value();
    else if (a.is("--type")) type_name = a.value();
    else a.unknown();
  }
  if (in.empty() || out.empty() || type_name.empty())
    Args::fail("quantize needs -m IN.gguf -o OUT.gguf --type TYPE (see inkling quantize --help)");
  const auto type = inkling::dtype_from_name(type_name);
  if (!type || !inkling::can_quantize_to(*type))
    Args::fail("--type: '" + type_name + "' is not one of f32, f16, bf16, q8_0, q4_0");
  inkling::QuantizeOptions o;
  o.type = *type;
  o.on_tensor = [](std::string_view name, int i, int n) {
    std::fprintf(stderr, "\r[%d/%d] %-40.*s", i + 1, n, static_cast<int>(name.size()), name.data());
  };
  const auto r = inkling::quantize_model(in, out, o);
  std::fprintf(stderr, "\n");
  std::printf("wrote %s: %d matrices converted to %s, %d tensors copied; %.1f MiB -> %.1f MiB\n", out.c_str(),
              r.converted, std::string(inkling::dtype_name(*type)).c_str(), r.kept,
              static_cast<double>(r.bytes_in) / 1048576.0, static_cast<double>(r.bytes_out) / 1048576.0);
  return 0;
}
