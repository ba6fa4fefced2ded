// The chat template families added for today's models (Qwen3, Llama 3.1+, Phi-4,
// Phi-4-mini, Granite 3), rendered character for character as their reference templates.
#include <string>
#include <string_view>

#include "inkling/chat_template.hpp"

namespace inkling {
namespace {

std::string_view lstrip_newlines(std::string_view s) {
  while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  return s;
}
std::string_view rstrip_newlines(std::string_view s) {
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}
std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  const auto b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

// Qwen3's template: the last user message that is not a tool response splits the history;
// assistant turns after it keep their reasoning.
std::string qwen3(std::span<const ChatMessage> msgs, bool add_generation_prompt) {
  long last_query = static_cast<long>(msgs.size()) - 1;
  for (long i = last_query; i >= 0; --i) {
    const std::string_view c = msgs[static_cast<std::size_t>(i)].content;
    const bool tool = c.starts_with("<tool_response>") && c.ends_with("</tool_response>");
    if (msgs[static_cast<std::size_t>(i)].role == "user" && !tool) {
      last_query = i;
      break;
    }
  }
  std::string out;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    if (m.role != "assistant") {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      continue;
    }
    std::string_view content = m.content, reasoning;
    if (const auto first = content.find("</think>"); first != std::string_view::npos) {
      // content.split('</think>'): the text after the last one; the reasoning is the text
      // before the first one, after its last '<think>'.
      const std::string_view before = rstrip_newlines(content.substr(0, first));
      const auto open = before.rfind("<think>");
      reasoning = lstrip_newlines(open == std::string_view::npos ? before : before.substr(open + 7));
      content = lstrip_newlines(content.substr(content.rfind("</think>") + 8));
    }
    out += "<|im_start|>assistant\n";
    if (static_cast<long>(i) > last_query && (i + 1 == msgs.size() || !reasoning.empty())) {
      out += "<think>\n";
      out += lstrip_newlines(rstrip_newlines(reasoning));
      out += "\n</think>\n\n";
      out += lstrip_newlines(content);
    } else {
      out += content;
    }
    out += "<|im_end|>\n";
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

// Llama 3.1-3.3: the system turn always opens with the knowledge and today's dates.
std::string llama31(std::span<const ChatMessage> msgs, bool add_generation_prompt, const std::string& date) {
  std::string out = "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: " +
                    date + "\n\n";
  std::size_t first = 0;
  if (!msgs.empty() && msgs[0].role == "system") {
    out += trim(msgs[0].content);
    first = 1;
  }
  out += "<|eot_id|>";
  for (std::size_t i = first; i < msgs.size(); ++i) {
    out += "<|start_header_id|>" + msgs[i].role + "<|end_header_id|>\n\n";
    out += trim(msgs[i].content);
    out += "<|eot_id|>";
  }
  if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

}  // namespace

std::string ChatTemplate::render_more(std::span<const ChatMessage> msgs, bool add_generation_prompt,
                                      bool lead_bos) const {
  std::string out;
  switch (family_) {
    case Family::Qwen3: return qwen3(msgs, add_generation_prompt);
    case Family::Llama31: return (lead_bos ? bos_ : std::string()) + llama31(msgs, add_generation_prompt, date_);
    case Family::Phi4:
      for (const auto& m : msgs) out += "<|im_start|>" + m.role + "<|im_sep|>" + m.content + "<|im_end|>";
      if (add_generation_prompt) out += "<|im_start|>assistant<|im_sep|>";
      return out;
    case Family::Phi4Mini:
      for (const auto& m : msgs) out += "<|" + m.role + "|>" + m.content + "<|end|>";
      out += add_generation_prompt ? std::string("<|assistant|>") : eos_;
      return out;
    case Family::Granite:
      for (const auto& m : msgs) out += "<|start_of_role|>" + m.role + "<|end_of_role|>" + m.content + "<|end_of_text|>\n";
      // Granite 3's template writes the cue inside its message loop: nothing for none.
      if (add_generation_prompt && !msgs.empty()) out += "<|start_of_role|>assistant<|end_of_role|>";
      return out;
    default: return out;  // the families apply() renders itself
  }
}

}  // namespace inkling
