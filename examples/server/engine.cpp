#include "engine.hpp"

#include <string>

#include "inkling/error.hpp"

namespace inkling::server {

std::vector<BatchEvent> Stream::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !events_.empty(); });
  std::vector<BatchEvent> out(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

bool Stream::finished() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

Engine::Engine(std::shared_ptr<const Model> model, BatchOptions options, int max_queued)
    : model_(std::move(model)), batch_(model_, options), max_queued_(max_queued) {
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  thread_.join();
}

std::shared_ptr<Stream> Engine::submit(std::span<const TokenId> prompt, GenerationConfig config) {
  auto stream = std::make_shared<Stream>();
  {
    // Held across add() so the engine cannot deliver this request's first events before
    // its stream is registered.
    std::lock_guard lock(mutex_);
    if (stopping_) throw Error(ErrorCode::InvalidArgument, "the server is shutting down");
    const int waiting = static_cast<int>(streams_.size()) - batch_.options().max_sequences;
    if (waiting >= max_queued_)
      throw Error(ErrorCode::OutOfMemory, "the server is busy: " + std::to_string(streams_.size()) +
                                              " requests are running or queued; try again later");
    stream->id_ = batch_.add_tokens(prompt, std::move(config));
    streams_[stream->id_] = stream;
  }
  work_.notify_one();
  return stream;
}

void Engine::cancel(const Stream& stream) { batch_.cancel(stream.id()); }

int Engine::running() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(streams_.size());
}

Engine::Counters Engine::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void Engine::loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      work_.wait(lock, [&] { return stopping_ || !streams_.empty(); });
      if (stopping_) {
        for (auto& [id, s] : streams_) batch_.cancel(id);
        if (streams_.empty() || batch_.idle()) return;
      }
    }
    std::vector<BatchEvent> events;
    try {
      events = batch_.step();
    } catch (const std::exception& e) {
      // BatchGenerator reports a request's failure as an event; anything escaping it
      // (say, out of memory in its own book-keeping) fails every open stream rather
      // than the whole server.
      std::lock_guard lock(mutex_);
      for (auto& [id, s] : streams_) {
        batch_.cancel(id);
        BatchEvent failed;
        failed.request = id;
        failed.finished = true;
        failed.error = std::string("internal error: ") + e.what();
        {
          std::lock_guard slock(s->mutex_);
          s->events_.push_back(std::move(failed));
          s->finished_ = true;
        }
        s->ready_.notify_all();
        ++counters_.failed;
      }
      streams_.clear();
      continue;
    }
    std::lock_guard lock(mutex_);
    for (BatchEvent& e : events) {
      const bool finished = e.finished;
      std::optional<GenerationResult> result;
      if (finished) result = batch_.take_result(e.request);  // taken even without a reader
      auto it = streams_.find(e.request);
      if (it == streams_.end()) continue;
      Stream& s = *it->second;
      if (e.step) ++counters_.tokens;
      if (finished) {
        ++counters_.finished;
        if (e.stop_reason == StopReason::Cancelled) ++counters_.cancelled;
        if (!e.error.empty()) ++counters_.failed;
      }
      {
        std::lock_guard slock(s.mutex_);
        s.events_.push_back(std::move(e));
        if (result) {
          s.result_ = std::move(*result);
          s.finished_ = true;
        }
      }
      s.ready_.notify_all();
      if (finished) streams_.erase(it);
    }
  }
}

}  // namespace inkling::server
