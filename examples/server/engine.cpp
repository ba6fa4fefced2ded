#include "engine.hpp"

#include <algorithm>
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
  return remaining_ == 0;
}

int Stream::index_of(RequestId id) const {
  const auto it = std::find(ids_.begin(), ids_.end(), id);
  return it == ids_.end() ? -1 : static_cast<int>(it - ids_.begin());
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

std::shared_ptr<Stream> Engine::submit(std::span<const TokenId> prompt, const std::vector<GenerationConfig>& configs) {
  auto stream = std::make_shared<Stream>();
  {
    // Held across add() so the engine cannot deliver a generation's first events before
    // its stream is registered.
    std::lock_guard lock(mutex_);
    if (stopping_) throw Error(ErrorCode::InvalidArgument, "the server is shutting down");
    const int waiting = static_cast<int>(streams_.size() + configs.size()) - batch_.options().max_sequences;
    if (waiting > max_queued_)
      throw Error(ErrorCode::OutOfMemory, "the server is busy: " + std::to_string(streams_.size()) +
                                              " generations are running or queued; try again later");
    try {
      for (const GenerationConfig& c : configs) stream->ids_.push_back(batch_.add_tokens(prompt, c));
    } catch (...) {
      for (RequestId id : stream->ids_) batch_.cancel(id);  // all or nothing
      throw;
    }
    stream->results_.resize(configs.size());
    stream->remaining_ = static_cast<int>(configs.size());
    for (RequestId id : stream->ids_) streams_[id] = stream;
  }
  work_.notify_one();
  return stream;
}

void Engine::cancel(const Stream& stream) {
  for (RequestId id : stream.ids()) batch_.cancel(id);
}

int Engine::running() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(streams_.size());
}

Engine::Counters Engine::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

// Under mutex_.
void Engine::deliver(Stream& s, BatchEvent e, std::optional<GenerationResult> result) {
  if (e.step) ++counters_.tokens;
  if (e.finished) {
    ++counters_.finished;
    if (e.stop_reason == StopReason::Cancelled) ++counters_.cancelled;
    if (!e.error.empty()) ++counters_.failed;
  }
  {
    std::lock_guard slock(s.mutex_);
    const int index = s.index_of(e.request);
    if (result && index >= 0) s.results_[static_cast<std::size_t>(index)] = std::move(*result);
    if (e.finished) --s.remaining_;
    s.events_.push_back(std::move(e));
  }
  s.ready_.notify_all();
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
      // (say, out of memory in its own book-keeping) fails every open generation rather
      // than the whole server.
      std::lock_guard lock(mutex_);
      for (auto& [id, s] : streams_) {
        batch_.cancel(id);
        BatchEvent failed;
        failed.request = id;
        failed.finished = true;
        failed.error = std::string("internal error: ") + e.what();
        deliver(*s, std::move(failed), std::nullopt);
      }
      streams_.clear();
      continue;
    }
    std::lock_guard lock(mutex_);
    for (BatchEvent& e : events) {
      std::optional<GenerationResult> result;
      if (e.finished) result = batch_.take_result(e.request);  // taken even without a reader
      auto it = streams_.find(e.request);
      if (it == streams_.end()) continue;
      const std::shared_ptr<Stream> s = it->second;
      if (e.finished) streams_.erase(it);
      deliver(*s, std::move(e), std::move(result));
    }
  }
}

}  // namespace inkling::server
