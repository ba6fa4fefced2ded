// Grammar (parse, load) and GrammarMatcher (bytes against the grammar).
#include "inkling/grammar.hpp"

#include <fstream>
#include <sstream>

#include "grammar/grammar_data.hpp"
#include "grammar/stack_walker.hpp"

namespace inkling {
namespace {
// A matcher's walker keeps every stack and set it has seen; past this many it is
// rebuilt from the current state alone (only when no copy shares it).
constexpr std::size_t kCompactAbove = 1u << 20;
}  // namespace

GrammarError::GrammarError(int line, int column, const std::string& message)
    : Error(ErrorCode::InvalidArgument,
            "grammar: line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message),
      line_(line),
      column_(column) {}

Grammar Grammar::parse(std::string_view gbnf, std::string_view root) {
  return Grammar(std::make_shared<const detail::GrammarData>(detail::parse_gbnf(gbnf, root)));
}

Grammar Grammar::parse_file(const std::string& path, std::string_view root) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, "grammar: cannot open '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(ErrorCode::Io, "grammar: cannot read '" + path + "'");
  return parse(text.str(), root);
}

std::size_t Grammar::rule_count() const noexcept { return data_->alts.size(); }

GrammarMatcher::GrammarMatcher(Grammar grammar)
    : grammar_(std::move(grammar)), walker_(std::make_shared<detail::StackWalker>(grammar_.shared_data())) {
  state_ = walker_->initial();
}
GrammarMatcher::GrammarMatcher(Grammar grammar, std::shared_ptr<detail::StackWalker> walker)
    : grammar_(std::move(grammar)), walker_(std::move(walker)) {
  state_ = walker_->initial();
}
GrammarMatcher::~GrammarMatcher() = default;
GrammarMatcher::GrammarMatcher(const GrammarMatcher&) = default;
GrammarMatcher& GrammarMatcher::operator=(const GrammarMatcher&) = default;
GrammarMatcher::GrammarMatcher(GrammarMatcher&&) noexcept = default;
GrammarMatcher& GrammarMatcher::operator=(GrammarMatcher&&) noexcept = default;

bool GrammarMatcher::accept(std::string_view bytes) {
  std::uint32_t s = state_;
  for (char c : bytes) {
    s = walker_->step(s, static_cast<std::uint8_t>(c));
    if (s == detail::StackWalker::kDead) return false;
  }
  state_ = s;
  compact_if_large();
  return true;
}

bool GrammarMatcher::can_accept(std::string_view bytes) const {
  std::uint32_t s = state_;
  for (char c : bytes) {
    s = walker_->step(s, static_cast<std::uint8_t>(c));
    if (s == detail::StackWalker::kDead) return false;
  }
  return true;
}

bool GrammarMatcher::can_end() const noexcept {
  const auto& s = walker_->set(state_);
  return s.bottom && s.partial == 0;
}

bool GrammarMatcher::finished() const noexcept {
  const auto& s = walker_->set(state_);
  return s.partial == 0 && s.members.size() == 1 && s.bottom;
}

void GrammarMatcher::reset() {
  if (walker_.use_count() > 1) walker_ = std::make_shared<detail::StackWalker>(grammar_.shared_data());
  state_ = walker_->initial();
}

void GrammarMatcher::compact_if_large() {
  if (walker_->size() < kCompactAbove || walker_.use_count() > 1) return;
  auto fresh = std::make_shared<detail::StackWalker>(grammar_.shared_data());
  state_ = fresh->transplant(*walker_, state_);
  walker_ = std::move(fresh);
}

}  // namespace inkling
