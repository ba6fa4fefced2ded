// Engine: one thread that owns a BatchGenerator and steps it while any request is running,
// and hands each request's events to the HTTP thread that waits for them. Requests from
// many clients are decoded together, one forward pass per step for all of them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "inkling/batch_generator.hpp"

namespace inkling::server {

// The events of one HTTP request's generations (n choices of one prompt), filled by the
// engine thread, read by one HTTP thread.
class Stream {
 public:
  // Waits up to `timeout` for events; returns those that arrived (empty on timeout).
  std::vector<BatchEvent> wait(std::chrono::milliseconds timeout);
  bool finished() const;  // every choice has ended
  // Which choice an event belongs to.
  int index_of(RequestId id) const;
  // After the end: each choice's result (text, tokens, metrics), in choice order.
  const std::vector<GenerationResult>& results() const { return results_; }
  const std::vector<RequestId>& ids() const noexcept { return ids_; }

 private:
  friend class Engine;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<BatchEvent> events_;
  std::vector<RequestId> ids_;
  std::vector<GenerationResult> results_;
  int remaining_ = 0;
};

class Engine {
 public:
  // max_queued: requests that may wait for a sequence; more are refused (Error(OutOfMemory)
  // with a "busy" message, which the server turns into 503).
  Engine(std::shared_ptr<const Model> model, BatchOptions options, int max_queued);
  ~Engine();  // cancels what runs and joins the thread
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues one generation per config, all of the same prompt (validation errors are
  // thrown here, before anything runs; then nothing of the request is queued).
  std::shared_ptr<Stream> submit(std::span<const TokenId> prompt, const std::vector<GenerationConfig>& configs);
  void cancel(const Stream& stream);
  const Model& model() const noexcept { return *model_; }
  const BatchOptions& options() const noexcept { return batch_.options(); }
  std::size_t kv_cache_bytes() const noexcept { return batch_.cache().bytes(); }
  int n_ctx() const noexcept { return batch_.cache().n_ctx(); }  // positions per sequence
  int running() const;  // generations submitted and not finished
  struct Counters {
    std::uint64_t finished = 0, cancelled = 0, failed = 0, tokens = 0;
  };
  Counters counters() const;

 private:
  void loop();
  void deliver(Stream& s, BatchEvent e, std::optional<GenerationResult> result);

  std::shared_ptr<const Model> model_;
  BatchGenerator batch_;
  int max_queued_;
  mutable std::mutex mutex_;  // streams_, counters_, stopping_
  std::condition_variable work_;
  std::map<RequestId, std::shared_ptr<Stream>> streams_;  // one entry per running generation
  Counters counters_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace inkling::server
