#include "common/thread_team.hpp"

#include <algorithm>
#include <string>
#include <system_error>

#include "inkling/error.hpp"

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#endif

namespace inkling::detail {
namespace {

// Polls before a waiter sleeps: a few tens of microseconds (a pause is 10-150 cycles
// depending on the CPU). Long enough to cover the gap between two barriers of a decode
// step, short enough that a thread delayed by another process gets its core back soon.
constexpr int kSpins = 2048;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
  _mm_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#else
  std::this_thread::yield();
#endif
}

}  // namespace

void TeamMember::barrier() noexcept {
  if (size_ > 1) team_->barrier(size_);
}

std::atomic<std::int64_t>& TeamMember::claim_counter() noexcept {
  // Loops alternate between two counters. Loop L's counter was last used by loop L-2,
  // which every member left before loop L-1 began; member 0 clears the other counter
  // (for loop L+1) now, before the barrier that ends loop L, so it is ready in time.
  const std::uint32_t loop = loops_++;
  if (id_ == 0) team_->counters_[(loop + 1) % 2].store(0, std::memory_order_relaxed);
  return team_->counters_[loop % 2];
}

ThreadTeam::~ThreadTeam() { stop(); }

void ThreadTeam::stop() noexcept {
  if (workers_.empty()) return;
  stopping_ = true;
  job_generation_.fetch_add(1, std::memory_order_seq_cst);
  wake();
  for (std::thread& w : workers_) w.join();
  workers_.clear();
  stopping_ = false;
}

void ThreadTeam::start(int workers) {
  const std::uint32_t seen = job_generation_.load(std::memory_order_relaxed);
  try {
    for (int id = 1; id <= workers; ++id) workers_.emplace_back([this, id, seen] { worker_loop(id, seen); });
  } catch (const std::system_error& e) {
    stop();
    throw Error(ErrorCode::OutOfMemory, "could not start " + std::to_string(workers) + " worker threads: " + e.what());
  }
}

void ThreadTeam::run(int threads, const std::function<void(TeamMember&)>& body) {
  threads = std::max(1, threads);
  if (threads == 1) {
    TeamMember alone;
    body(alone);
    return;
  }
  // Every worker takes part in every job: a team of another size starts afresh, so no
  // worker ever reads a job it is not part of while the next one is being set up.
  if (static_cast<int>(workers_.size()) != threads - 1) {
    stop();
    start(threads - 1);
  }
  body_ = &body;
  job_size_ = threads;
  counters_[0].store(0, std::memory_order_relaxed);
  counters_[1].store(0, std::memory_order_relaxed);
  job_generation_.fetch_add(1, std::memory_order_seq_cst);  // publishes the job
  wake();
  TeamMember self(this, 0, threads);
  body(self);
  self.barrier();  // every worker has finished the body
}

void ThreadTeam::worker_loop(int id, std::uint32_t seen) {
  for (;;) {
    wait_change(job_generation_, seen);
    seen = job_generation_.load(std::memory_order_acquire);
    if (stopping_) return;
    TeamMember self(this, id, job_size_);
    (*body_)(self);
    self.barrier();
  }
}

void ThreadTeam::barrier(int size) noexcept {
  // Read the generation before arriving: the last member bumps it once all have arrived.
  const std::uint32_t generation = barrier_generation_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == size) {
    arrived_.store(0, std::memory_order_relaxed);
    barrier_generation_.fetch_add(1, std::memory_order_seq_cst);
    wake();
    return;
  }
  wait_change(barrier_generation_, generation);
}

void ThreadTeam::wait_change(const std::atomic<std::uint32_t>& word, std::uint32_t seen) noexcept {
  for (int i = 0; i < kSpins; ++i) {
    if (word.load(std::memory_order_acquire) != seen) return;
    cpu_relax();
  }
  // Announce the sleep before the last check (both sequentially consistent): a waker
  // that bumps the word and then reads sleepers_ == 0 cannot miss a sleeper, because the
  // sleeper's own check then sees the new value. A waker that sees a sleeper takes the
  // mutex, which the sleeper holds from its announcement until it waits, so the
  // notification cannot fall between the check and the wait.
  std::unique_lock<std::mutex> lock(sleep_mutex_);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  while (word.load(std::memory_order_seq_cst) == seen) sleep_cv_.wait(lock);
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
}

void ThreadTeam::wake() noexcept {
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    sleep_cv_.notify_all();
  }
}

}  // namespace inkling::detail
