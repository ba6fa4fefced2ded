// A team of threads that runs one job at a time, every member running the same body:
// the shape of a forward pass (each thread runs every block; the work inside a block is
// shared out by loops that end in a barrier). It replaces the OpenMP parallel region
// the pass used before, for two reasons an embedding app cares about:
// - waiting never burns a core for long: a member waiting at a barrier, or a worker
//   waiting for the next job, spins for a few microseconds and then sleeps on a
//   condition variable, so an idle model leaves the CPU to the app's UI and other work;
// - matmul rows are handed out in blocks as threads ask for them (for_dynamic), so a
//   thread that another process delays on its core costs the pass one block, not its
//   whole static share (OpenMP's spin-waiting barriers made 2-thread decode collapse
//   under such load).
// The team belongs to one caller at a time (a KVCache's workspace owns one): run() is
// not reentrant and not thread-safe, like the cache itself.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace inkling::detail {

class ThreadTeam;

// One thread's place in a team job. A default-constructed member is a team of one (a
// caller outside any team): its loops run everything and its barriers return at once.
// Every loop and single() is collective: all members call the same ones in the same
// order (as with OpenMP worksharing), and each ends with a barrier.
class TeamMember {
 public:
  TeamMember() = default;

  int id() const noexcept { return id_; }
  int size() const noexcept { return size_; }

  // Waits until every member of the job has arrived.
  void barrier() noexcept;

  // f(i) for this member's contiguous share of [0, n), then a barrier.
  template <typename F>
  void for_static(std::int64_t n, F&& f) {
    const std::int64_t per = n / size_, extra = n % size_;
    const std::int64_t begin = id_ * per + (id_ < extra ? id_ : extra);
    const std::int64_t end = begin + per + (id_ < extra ? 1 : 0);
    for (std::int64_t i = begin; i < end; ++i) f(i);
    barrier();
  }

  // f(i) for i = id, id + size, ...: round robin, for items whose cost grows with i.
  template <typename F>
  void for_cyclic(std::int64_t n, F&& f) {
    for (std::int64_t i = id_; i < n; i += size_) f(i);
    barrier();
  }

  // f(i) for items of [0, n) claimed in chunks from a shared counter, then a barrier: for
  // items of even cost where a delayed thread should not hold up the rest. About eight
  // chunks per member: few enough that claiming (one contended atomic each) costs
  // nothing, enough that a member stalled mid-chunk delays the loop by 1/8 of its share.
  template <typename F>
  void for_dynamic(std::int64_t n, F&& f) {
    if (size_ == 1) {
      for (std::int64_t i = 0; i < n; ++i) f(i);
      return;
    }
    const std::int64_t chunk = n / (8 * size_) > 1 ? n / (8 * size_) : 1;
    std::atomic<std::int64_t>& next = claim_counter();
    for (std::int64_t i0 = next.fetch_add(chunk, std::memory_order_relaxed); i0 < n;
         i0 = next.fetch_add(chunk, std::memory_order_relaxed))
      for (std::int64_t i = i0; i < i0 + chunk && i < n; ++i) f(i);
    barrier();
  }

  // f() on member 0 only, then a barrier (the others see what it wrote).
  template <typename F>
  void single(F&& f) {
    if (id_ == 0) f();
    barrier();
  }

 private:
  friend class ThreadTeam;
  TeamMember(ThreadTeam* team, int id, int size) noexcept : team_(team), id_(id), size_(size) {}
  // The counter of this member's next for_dynamic loop, readied for the loop after it.
  std::atomic<std::int64_t>& claim_counter() noexcept;

  ThreadTeam* team_ = nullptr;
  int id_ = 0;
  int size_ = 1;
  std::uint32_t loops_ = 0;  // for_dynamic loops this member has entered in this job
};

class ThreadTeam {
 public:
  ThreadTeam() = default;
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;

  // Runs body(member) on `threads` threads, the caller being member 0, and returns when
  // every member has returned. Worker threads are started on first need and kept for
  // later jobs. The body must not throw (check and allocate before the job, as a forward
  // pass does): an exception escaping a worker ends the process.
  void run(int threads, const std::function<void(TeamMember&)>& body);

  // Worker threads started so far (tests).
  int workers() const noexcept { return static_cast<int>(workers_.size()); }

 private:
  friend class TeamMember;
  void start(int workers);
  void stop() noexcept;
  void worker_loop(int id, std::uint32_t seen);
  void barrier(int size) noexcept;
  // Waits until `word` no longer holds `seen`: spins briefly, then sleeps.
  void wait_change(const std::atomic<std::uint32_t>& word, std::uint32_t seen) noexcept;
  void wake() noexcept;  // wakes every sleeping waiter, if any

  std::vector<std::thread> workers_;
  const std::function<void(TeamMember&)>* body_ = nullptr;
  int job_size_ = 0;
  bool stopping_ = false;
  alignas(64) std::atomic<std::uint32_t> job_generation_{0};
  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<std::uint32_t> barrier_generation_{0};
  alignas(64) std::atomic<int> sleepers_{0};
  // Sleeping waiters block here. Not std::atomic::wait: GCC 12's libstdc++ can lose its
  // wake-ups where there is no futex (MinGW; GCC bug 106183), and a team must never hang.
  std::mutex sleep_mutex_;
  std::condition_variable sleep_cv_;
  alignas(64) std::atomic<std::int64_t> counters_[2] = {};
};

}  // namespace inkling::detail
