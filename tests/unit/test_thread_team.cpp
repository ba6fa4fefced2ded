// The thread team that runs forward passes: every loop kind covers each item exactly
// once on every team size, barriers order writes, single() runs once, teams resize,
// and idle workers sleep instead of spinning.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <numeric>
#include <thread>
#include <vector>

#include "common/thread_team.hpp"

using inkling::detail::TeamMember;
using inkling::detail::ThreadTeam;

namespace {

// Runs one loop kind over n items on `threads` threads; returns how often each item ran.
template <typename Loop>
std::vector<int> coverage(ThreadTeam& team, int threads, std::int64_t n, Loop loop) {
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  team.run(threads, [&](TeamMember& m) { loop(m, n, [&](std::int64_t i) { hits[static_cast<std::size_t>(i)]++; }); });
  std::vector<int> out;
  for (auto& h : hits) out.push_back(h.load());
  return out;
}

}  // namespace

TEST_CASE("each loop kind runs every item exactly once, whatever the team size") {
  ThreadTeam team;
  for (int threads : {1, 2, 3, 4}) {
    for (std::int64_t n : {0, 1, 2, 5, 31, 64, 1000}) {
      CAPTURE(threads);
      CAPTURE(n);
      const std::vector<int> once(static_cast<std::size_t>(n), 1);
      CHECK(coverage(team, threads, n, [](TeamMember& m, std::int64_t k, auto f) { m.for_static(k, f); }) == once);
      CHECK(coverage(team, threads, n, [](TeamMember& m, std::int64_t k, auto f) { m.for_cyclic(k, f); }) == once);
      CHECK(coverage(team, threads, n, [](TeamMember& m, std::int64_t k, auto f) { m.for_dynamic(k, f); }) == once);
    }
    CHECK(team.workers() == (threads > 1 ? threads - 1 : team.workers()));
  }
}

TEST_CASE("consecutive dynamic loops in one job each cover their items (the counters alternate)") {
  ThreadTeam team;
  constexpr int kLoops = 7;
  std::vector<std::atomic<int>> hits(kLoops * 100);
  team.run(3, [&](TeamMember& m) {
    for (int loop = 0; loop < kLoops; ++loop)
      m.for_dynamic(100 - loop * 10, [&](std::int64_t i) { hits[static_cast<std::size_t>(loop * 100 + i)]++; });
  });
  for (int loop = 0; loop < kLoops; ++loop)
    for (int i = 0; i < 100; ++i) CHECK(hits[static_cast<std::size_t>(loop * 100 + i)].load() == (i < 100 - loop * 10 ? 1 : 0));
  // A second job starts its counters afresh.
  std::atomic<int> total{0};
  team.run(3, [&](TeamMember& m) { m.for_dynamic(50, [&](std::int64_t) { total++; }); });
  CHECK(total.load() == 50);
}

TEST_CASE("a barrier makes every member's writes visible; single runs once") {
  ThreadTeam team;
  constexpr int kThreads = 4, kRounds = 200;
  std::vector<int> slots(kThreads, 0);
  int singles = 0;
  bool consistent = true;
  std::atomic<int> ids_seen{0};
  team.run(kThreads, [&](TeamMember& m) {
    CHECK(m.size() == kThreads);
    ids_seen.fetch_or(1 << m.id());
    for (int r = 1; r <= kRounds; ++r) {
      slots[static_cast<std::size_t>(m.id())] = r;  // plain writes, ordered by the barrier
      m.barrier();
      for (int s : slots)
        if (s != r) consistent = false;  // only ever written false: a benign flag
      m.barrier();
      m.single([&] { ++singles; });
    }
  });
  CHECK(consistent);
  CHECK(singles == kRounds);
  CHECK(ids_seen.load() == (1 << kThreads) - 1);
}

TEST_CASE("a team of one runs on the caller; a default member is alone") {
  ThreadTeam team;
  const auto caller = std::this_thread::get_id();
  team.run(1, [&](TeamMember& m) {
    CHECK(m.size() == 1);
    CHECK(std::this_thread::get_id() == caller);
  });
  CHECK(team.workers() == 0);
  TeamMember alone;
  int sum = 0;
  alone.for_dynamic(10, [&](std::int64_t i) { sum += static_cast<int>(i); });
  alone.barrier();
  CHECK(sum == 45);
}

TEST_CASE("workers persist between jobs and a new size restarts them") {
  ThreadTeam team;
  std::vector<std::thread::id> first(3), second(3);
  team.run(3, [&](TeamMember& m) { first[static_cast<std::size_t>(m.id())] = std::this_thread::get_id(); });
  team.run(3, [&](TeamMember& m) { second[static_cast<std::size_t>(m.id())] = std::this_thread::get_id(); });
  CHECK(first == second);
  team.run(2, [](TeamMember& m) { CHECK(m.size() == 2); });
  CHECK(team.workers() == 1);
}

#if defined(__linux__)
TEST_CASE("idle workers sleep: the process uses almost no CPU while the team waits") {
  ThreadTeam team;
  team.run(4, [](TeamMember& m) { m.barrier(); });
  const std::clock_t before = std::clock();  // CPU time of every thread of the process
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double cpu_ms = 1000.0 * static_cast<double>(std::clock() - before) / CLOCKS_PER_SEC;
  // Three workers spinning for 300 ms would use ~900 ms of CPU time; sleeping ones a few.
  CHECK(cpu_ms < 100.0);
}
#endif
