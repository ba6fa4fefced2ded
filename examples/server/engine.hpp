// Engine: one thread that owns a BatchGenerator and steps it while any request is running,
// and hands each request's events to the HTTP thread that waits for them. Requests from
// many clients are decoded together, one forward pass per step for all of them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "inkling/batch_generator.hpp"

namespace inkling::server {

// One request's events, filled by the engine thread, read by one HTTP thread.
class Stream {
 public:
  // Waits up to `timeout` for events; returns those that arrived (empty on timeout).
  std::vector<BatchEvent> wait(std::chrono::milliseconds timeout);
  bool finished() const;
  // After the final event: the request's result (text, tokens, metrics).
  const GenerationResult& result() const { return result_; }
  RequestId id() const noexcept { return id_; }

 private:
  friend class Engine;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<BatchEvent> events_;
  bool finished_ = false;
  GenerationResult result_;
  RequestId id_ = 0;
};

class Engine {
 public:
  // max_queued: requests that may wait for a sequence; more are refused (Error(OutOfMemory)
  // with a "busy" message, which the server turns into 503).
  Engine(std::shared_ptr<const Model> model, BatchOptions options, int max_queued);
  ~Engine();  // cancels what runs and joins the thread
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request (validation errors are thrown here, before anything runs).
  std::shared_ptr<Stream> submit(std::span<const TokenId> prompt, GenerationConfig config);
  void cancel(const Stream& stream);
  const Model& model() const noexcept { return *model_; }
  const BatchOptions& options() const noexcept { return batch_.options(); }
  std::size_t kv_cache_bytes() const noexcept { return batch_.cache().bytes(); }
  int running() const;  // requests submitted and not finished
  struct Counters {
    std::uint64_t finished = 0, cancelled = 0, failed = 0, tokens = 0;
  };
  Counters counters() const;

 private:
  void loop();

  std::shared_ptr<const Model> model_;
  BatchGenerator batch_;
  int max_queued_;
  mutable std::mutex mutex_;  // streams_, stopping_
  std::condition_variable work_;
  std::map<RequestId, std::shared_ptr<Stream>> streams_;
  Counters counters_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace inkling::server
