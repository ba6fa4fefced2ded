// `inkling bench`: prompt-processing and generation speed, defined as llama-bench's pp/tg
// so the two can be compared side by side on the same file and thread count:
//   ppN: N prompt tokens decoded in one batch into an empty cache, tokens/s;
//   tgN: N tokens decoded one at a time from an empty cache, tokens/s.
#if !defined(_WIN32)
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "inkling/system.hpp"
#include "commands.hpp"

namespace {

struct BenchOptions {
  std::string model;
  std::vector<int> prompt_sizes{512};
  std::vector<int> gen_sizes{128};
  std::vector<int> threads{0};
  std::vector<int> depths{0};  // tokens already in the cache before each pp/tg run
  std::vector<int> parallel;  // aggregate decode with this many sequences at once
  int prefix = 0;             // TTFT with and without reusing a shared prefix of this many tokens
  int repetitions = 5;
  bool probe = true;  // measure memory bandwidth to put tg figures in proportion
  bool json = false;
  bool no_mmap = false;
  inkling::DType kv_type = inkling::DType::F32;  // llama-bench's default is F16 (its -ctk/-ctv)
};

void usage() {
  std::puts(
      "usage: inkling bench -m MODEL [-p N[,N...]] [-n N[,N...]] [-d N[,N...]] [-t T[,T...]] [-r R] [--json]\n"
      "\n"
      "Measures prompt processing (ppN: N tokens in one batch into an empty cache) and\n"
      "generation (tgN: N tokens decoded one at a time) in tokens/s, mean +- sd over R\n"
      "repetitions after one warm-up, as llama-bench defines them.\n"
      "\n"
      "  -m, --model PATH    GGUF model file\n"
      "  -p, --prompt N,...  prompt sizes (default 512; 0 skips)\n"
      "  -n, --gen N,...     generation lengths (default 128; 0 skips)\n"
      "  -d, --depth N,...   tokens already in the cache before each pp/tg run (default 0),\n"
      "                      as llama-bench's -d: rows are named e.g. 'pp512 @ d2048'\n"
      "  -t, --threads T,... thread counts (default: physical cores)\n"
      "  -r, --reps R        repetitions (default 5)\n"
      "      --parallel N,...  also decode N sequences at once (one batched pass per step) and\n"
      "                        report the aggregate generated tokens/s (TPOT: each sequence's time\n"
      "                        per token, i.e. per batched step), e.g. 1,2,4,8,16\n"
      "      --prefix N        also report time to first token for a 16-token question after an\n"
      "                        N-token shared prefix, computed from scratch and reused from the cache\n"
      "      --kv-type T     KV cache type: f32 (default), f16 (llama-bench's default) or q8_0;\n"
      "                      compare long-context rows (-d) with llama-bench at the same type\n"
      "      --no-mmap       read the model into memory instead of mapping it\n"
      "      --no-probe      skip the memory-bandwidth probe (tg rows then show no share of it)\n"
      "      --json          one JSON object per result line instead of a table");
}

std::vector<int> parse_list(const char* flag, const char* text) {
  std::vector<int> out;
  std::string s(text);
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 0 || v > 1000000)
      throw inkling::Error(inkling::ErrorCode::InvalidArgument,
                           std::string(flag) + ": '" + item + "' is not a count in [0, 1000000]");
    out.push_back(static_cast<int>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

BenchOptions parse(int argc, char** argv) {
  BenchOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc)
        throw inkling::Error(inkling::ErrorCode::InvalidArgument, a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") { usage(); std::exit(0); }
    else if (a == "-m" || a == "--model") o.model = value();
    else if (a == "-p" || a == "--prompt") o.prompt_sizes = parse_list("-p", value());
    else if (a == "-n" || a == "--gen") o.gen_sizes = parse_list("-n", value());
    else if (a == "-t" || a == "--threads") o.threads = parse_list("-t", value());
    else if (a == "-d" || a == "--depth") o.depths = parse_list("-d", value());
    else if (a == "--parallel") o.parallel = parse_list("--parallel", value());
    else if (a == "--prefix") {
      auto v = parse_list("--prefix", value());
      if (v.size() != 1) throw inkling::Error(inkling::ErrorCode::InvalidArgument, "--prefix takes one count");
      o.prefix = v[0];
    }
    else if (a == "-r" || a == "--reps") {
      auto r = parse_list("-r", value());
      if (r.size() != 1 || r[0] < 1)
        throw inkling::Error(inkling::ErrorCode::InvalidArgument, "-r needs one count >= 1");
      o.repetitions = r[0];
    } else if (a == "--json") o.json = true;
    else if (a == "--no-mmap") o.no_mmap = true;
    else if (a == "--kv-type") {
      const std::string t = value();
      if (t == "f32" || t == "F32") o.kv_type = inkling::DType::F32;
      else if (t == "f16" || t == "F16") o.kv_type = inkling::DType::F16;
      else if (t == "q8_0" || t == "Q8_0") o.kv_type = inkling::DType::Q8_0;
      else throw inkling::Error(inkling::ErrorCode::InvalidArgument, "--kv-type: expected f32, f16 or q8_0, got '" + t + "'");
    }
    else if (a == "--no-probe") o.probe = false;
    else throw inkling::Error(inkling::ErrorCode::InvalidArgument, "unknown option '" + a + "' (see inkling bench --help)");
  }
  if (o.model.empty())
    throw inkling::Error(inkling::ErrorCode::InvalidArgument, "bench needs a model: -m MODEL");
  const bool deep = std::any_of(o.depths.begin(), o.depths.end(), [](int d) { return d > 0; });
  if (deep && (!o.parallel.empty() || o.prefix > 0))
    throw inkling::Error(inkling::ErrorCode::InvalidArgument,
                         "-d applies to the pp and tg rows only; it cannot combine with --parallel or --prefix");
  return o;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Stats {
  double mean = 0, sd = 0;
};

Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(s.sd / static_cast<double>(v.size() - 1));
  }
  return s;
}

// Fills positions [0, depth) of sequence 0 with random tokens, 512 per pass (untimed);
// the runs below then truncate the cache back to `depth` before each repetition.
void fill_depth(const inkling::Model& model, inkling::KVCache& cache, int depth, std::mt19937& rng) {
  std::uniform_int_distribution<int> pick(0, model.config().n_vocab - 1);
  cache.clear();
  std::vector<float> none;
  for (int p0 = 0; p0 < depth; p0 += 512) {
    inkling::Batch batch;
    for (int i = p0; i < std::min(depth, p0 + 512); ++i) batch.add(pick(rng), i, 0, false);
    model.forward(batch, cache, none);
  }
}

// One run after `depth` cached tokens: returns seconds. Random token ids, like llama-bench.
double run_prompt(const inkling::Model& model, inkling::KVCache& cache, int depth, int n, std::mt19937& rng,
                  std::vector<float>& logits) {
  inkling::Batch batch;
  std::uniform_int_distribution<int> pick(0, model.config().n_vocab - 1);
  for (int i = 0; i < n; ++i) batch.add(pick(rng), depth + i, 0, i + 1 == n);
  cache.truncate(0, depth);
  const double t0 = now_seconds();
  model.forward(batch, cache, logits);
  return now_seconds() - t0;
}

double run_gen(const inkling::Model& model, inkling::KVCache& cache, int depth, int n, std::mt19937& rng,
               std::vector<float>& logits) {
  inkling::Batch batch;
  std::uniform_int_distribution<int> pick(0, model.config().n_vocab - 1);
  cache.truncate(0, depth);
  const double t0 = now_seconds();
  for (int i = 0; i < n; ++i) {
    batch.clear();
    batch.add(pick(rng), depth + i, 0, true);
    model.forward(batch, cache, logits);
  }
  return now_seconds() - t0;
}

// N sequences, each decoding one token per step in a shared batch: returns seconds for
// `steps` steps (N * steps tokens).
double run_parallel(const inkling::Model& model, inkling::KVCache& cache, int n_seq, int steps, std::mt19937& rng,
                    std::vector<float>& logits) {
  std::uniform_int_distribution<int> pick(0, model.config().n_vocab - 1);
  inkling::Batch batch;
  cache.clear();
  logits.resize(static_cast<std::size_t>(n_seq) * model.config().n_vocab);
  const double t0 = now_seconds();
  for (int i = 0; i < steps; ++i) {
    batch.clear();
    for (int s = 0; s < n_seq; ++s) batch.add(pick(rng), i, s, true);
    model.forward(batch, cache, logits);
  }
  return now_seconds() - t0;
}

// STREAM-triad bandwidth for each thread count (0 = the library's default count), measured
// in a child process so that its 192 MB of arrays never count in this process's peak
// memory. Empty if it cannot be measured.
std::vector<double> probe_bandwidth(const std::vector<int>& threads) {
#if defined(_WIN32)
  (void)threads;  // no fork(): measured in this process it would count in peak memory
  return {};
#else
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();  // before this process starts any OpenMP thread
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return {};
  }
  if (pid == 0) {
    close(fds[0]);
    for (int t : threads) {
      const double gbs = inkling::memory_bandwidth_gbs(t > 0 ? t : inkling::Model::default_threads());
      if (write(fds[1], &gbs, sizeof gbs) != static_cast<ssize_t>(sizeof gbs)) break;
    }
    _exit(0);
  }
  close(fds[1]);
  std::vector<double> out;
  double gbs = 0;
  while (out.size() < threads.size() && read(fds[0], &gbs, sizeof gbs) == static_cast<ssize_t>(sizeof gbs)) out.push_back(gbs);
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  if (out.size() != threads.size()) out.clear();
  return out;
#endif
}

// Benchmarks time positions, not text: a size past the model's training context (pp512
// on a 128-position model) stretches RoPE just enough, which costs nothing. Models with
// learned positions cannot be stretched and keep the refusal.
float rope_scale_for(const inkling::Model& model, int n_ctx) {
  const int train = model.config().n_ctx_train;
  return n_ctx <= train ? 1.0f : static_cast<float>((n_ctx + train - 1) / train);
}

// Time to first token of a 16-token question after an o.prefix-token shared prefix:
// computed from scratch, then with the prefix's cache entries reused.
void report_prefix(const inkling::Model& m, const BenchOptions& o, float stretch, std::mt19937& rng,
                   std::vector<float>& logits) {
  inkling::KVCache pc(m, {.n_ctx = o.prefix + 16, .rope_scale = stretch, .type = o.kv_type});
  std::uniform_int_distribution<int> pick(0, m.config().n_vocab - 1);
  inkling::Batch prefix_batch, question;
  for (int i = 0; i < o.prefix; ++i) prefix_batch.add(pick(rng), i, 0, false);
  for (int i = 0; i < 16; ++i) question.add(pick(rng), o.prefix + i, 0, i == 15);
  std::vector<double> full, reused;
  for (int r = 0; r < o.repetitions; ++r) {
    pc.clear();
    double t0 = now_seconds();
    std::vector<float> none;
    m.forward(prefix_batch, pc, none);
    m.forward(question, pc, logits);
    full.push_back(now_seconds() - t0);
    pc.truncate(0, o.prefix);
    t0 = now_seconds();
    m.forward(question, pc, logits);
    reused.push_back(now_seconds() - t0);
  }
  const Stats a = stats(full), b = stats(reused);
  std::printf(o.json ? "{\"test\": \"prefix%d\", \"ttft_ms_full\": %.3f, \"ttft_ms_reused\": %.3f}\n"
                     : "| prefix %d + 16 tokens | TTFT from scratch %.2f ms | reusing the prefix %.2f ms |\n",
              o.prefix, 1000 * a.mean, 1000 * b.mean);
}

// Bytes of weights one decoded token reads: all of them but the embedding table, of which
// it reads one row (unless the output layer is the same matrix).
std::size_t weight_bytes_per_token(const inkling::Model& m) {
  std::size_t bytes = m.weight_bytes();
  if (const auto* e = m.file().find_tensor("token_embd.weight"); e && !m.config().tied_output) bytes -= e->bytes - e->row_bytes();
  return bytes;
}

// Cache positions the pp/tg rows need: the longest run after the deepest depth.
int positions_needed(const BenchOptions& o) {
  int longest = 1;
  for (int p : o.prompt_sizes) longest = std::max(longest, p);
  for (int g : o.gen_sizes) longest = std::max(longest, g);
  return longest + *std::max_element(o.depths.begin(), o.depths.end());
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  const BenchOptions o = parse(argc, argv);
  std::mt19937 rng(1234);
  const int max_ctx = positions_needed(o);

  const std::vector<double> bandwidth = o.probe ? probe_bandwidth(o.threads) : std::vector<double>{};
  if (!o.json)
    std::printf("| model | size | type | threads | isa | test | t/s | TTFT (pp) / TPOT (tg) ms | weights GB/s (tg) |\n"
                "|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t ti = 0; ti < o.threads.size(); ++ti) {
    const int threads = o.threads[ti];
    const double triad = ti < bandwidth.size() ? bandwidth[ti] : 0.0;
    auto model = inkling::Model::load(o.model, {.threads = threads, .use_mmap = !o.no_mmap});
    const int longest = std::max(max_ctx, o.prefix + 16);
    const float stretch = rope_scale_for(*model, longest);
    if (ti == 0 && stretch > 1 && stretch <= 64)
      std::fprintf(stderr, "[bench: %d positions are past the model's %d trained positions: RoPE stretched %gx (same work)]\n",
                   longest, model->config().n_ctx_train, static_cast<double>(stretch));
    inkling::KVCache cache(*model, {.n_ctx = max_ctx, .rope_scale = stretch, .type = o.kv_type});
    std::vector<float> logits(static_cast<std::size_t>(model->config().n_vocab));
    const std::string name = std::filesystem::path(o.model).filename().string();

    const auto* first_q = model->file().find_tensor("blk.0.attn_q.weight");
    const std::string type = first_q ? std::string(inkling::dtype_name(first_q->type)) : "?";

    const std::size_t per_token = weight_bytes_per_token(*model);

    // `per_step`: tokens one decode step produces (n_seq for a parallel run), so that TPOT
    // is the time each sequence waits per token, not aggregate time per token.
    // `cached`: positions in the cache after the run (depth + n for pp/tg rows; -1 if not
    // reported), so a reader (and the test) sees the depth was really there.
    auto report = [&](const std::string& test, int n, const std::vector<double>& secs, int per_step = 1,
                      int cached = -1) {
      std::vector<double> tps;
      for (double s : secs) tps.push_back(n / s);
      const Stats st = stats(tps);
      // For pp the whole batch is the time to first token; for tg, time per output token.
      const bool is_prompt = test.rfind("pp", 0) == 0;
      const bool is_single_tg = !is_prompt && test.find('x') == std::string::npos;
      const double ms = is_prompt ? 1000.0 * n / st.mean : 1000.0 * per_step / st.mean;
      const double gbs = is_single_tg ? static_cast<double>(per_token) * st.mean / 1e9 : 0.0;
      if (o.json) {
        std::printf("{\"model\": \"%s\", \"bytes\": %zu, \"type\": \"%s\", \"threads\": %d, "
                    "\"isa\": \"%s\", \"test\": \"%s\", \"n\": %d, \"tps_mean\": %.3f, "
                    "\"tps_sd\": %.3f, \"%s\": %.4f, \"weights_gbps\": %.3f, \"triad_gbps\": %.3f, "
                    "\"peak_rss\": %zu, \"cache_length\": %d, \"kv_type\": \"%s\", \"kv_bytes\": %zu}\n",
                    name.c_str(), model->weight_bytes(), type.c_str(), model->threads(),
                    model->isa().c_str(), test.c_str(), n, st.mean, st.sd,
                    is_prompt ? "ttft_ms" : "tpot_ms", ms, gbs, triad, inkling::peak_memory_bytes(), cached,
                    std::string(inkling::dtype_name(cache.type())).c_str(), cache.bytes());
      } else {
        char share[64] = "";
        if (gbs > 0 && triad > 0)
          std::snprintf(share, sizeof share, "%.1f (%.0f%% of %.1f)", gbs, 100.0 * gbs / triad, triad);
        else if (gbs > 0)
          std::snprintf(share, sizeof share, "%.1f", gbs);
        std::printf("| %s | %.1f MiB | %s | %d | %s | %s | %.2f ± %.2f | %.3f | %s |\n", name.c_str(),
                    model->weight_bytes() / 1048576.0, type.c_str(), model->threads(),
                    model->isa().c_str(), test.c_str(), st.mean, st.sd, ms, share);
      }
      std::fflush(stdout);
    };

    for (int d : o.depths) {
      const std::string at = d > 0 ? " @ d" + std::to_string(d) : "";
      fill_depth(*model, cache, d, rng);
      for (int p : o.prompt_sizes) {
        if (p == 0) continue;
        run_prompt(*model, cache, d, p, rng, logits);  // warm-up: page in weights, grow buffers
        std::vector<double> secs;
        for (int r = 0; r < o.repetitions; ++r) secs.push_back(run_prompt(*model, cache, d, p, rng, logits));
        report("pp" + std::to_string(p) + at, p, secs, 1, cache.length(0));
      }
      for (int g : o.gen_sizes) {
        if (g == 0) continue;
        run_gen(*model, cache, d, std::min(g, 8), rng, logits);
        std::vector<double> secs;
        for (int r = 0; r < o.repetitions; ++r) secs.push_back(run_gen(*model, cache, d, g, rng, logits));
        report("tg" + std::to_string(g) + at, g, secs, 1, cache.length(0));
      }
    }
    for (int n_seq : o.parallel) {
      if (n_seq < 1) continue;
      const int steps = std::max(8, std::min(64, o.gen_sizes.empty() ? 32 : o.gen_sizes[0]));
      inkling::KVCache pc(*model, {.n_ctx = steps, .rope_scale = stretch, .n_seq = n_seq, .type = o.kv_type});
      run_parallel(*model, pc, n_seq, 4, rng, logits);
      std::vector<double> secs;
      for (int r = 0; r < o.repetitions; ++r) secs.push_back(run_parallel(*model, pc, n_seq, steps, rng, logits));
      report("tg" + std::to_string(steps) + "x" + std::to_string(n_seq), steps * n_seq, secs, n_seq);
    }
    logits.resize(static_cast<std::size_t>(model->config().n_vocab));
    if (o.prefix > 0) report_prefix(*model, o, stretch, rng, logits);
  }
  if (!o.json)
    std::printf("\npeak resident memory: %.1f MiB; CPU: %s\n", inkling::peak_memory_bytes() / 1048576.0,
                inkling::cpu_info().description.c_str());
  return 0;
}
