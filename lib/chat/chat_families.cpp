// The chat template families added for today's models (Qwen3, Llama 3.1+, Phi-4,
// Phi-4-mini, Granite 3), rendered character for character as their reference templates.
#include <string>
#include <string_view>
#include <vector>

#include "inkling/chat_template.hpp"
#include "marked_text.hpp"

namespace inkling {
namespace {

using detail::lstrip_newlines;
using detail::rstrip_newlines;
using Out = detail::MarkedText;

// Qwen3's template: the last user message that is not a tool response splits the history;
// assistant turns after it keep their reasoning.
void qwen3(std::span<const ChatMessage> msgs, bool add_generation_prompt, Out& w) {
  long last_query = static_cast<long>(msgs.size()) - 1;
  for (long i = last_query; i >= 0; --i) {
    const std::string_view c = msgs[static_cast<std::size_t>(i)].content;
    const bool tool = c.starts_with("<tool_response>") && c.ends_with("</tool_response>");
    if (msgs[static_cast<std::size_t>(i)].role == "user" && !tool) {
      last_query = i;
      break;
    }
  }
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    if (m.role != "assistant") {
      w.mark("<|im_start|>" + m.role + "\n");
      w.content(m.content);
      w.mark("<|im_end|>\n");
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
    w.mark("<|im_start|>assistant\n");
    if (static_cast<long>(i) > last_query && (i + 1 == msgs.size() || !reasoning.empty())) {
      w.mark("<think>\n");
      w.content(lstrip_newlines(rstrip_newlines(reasoning)));
      w.mark("\n</think>\n\n");
      w.content(lstrip_newlines(content));
    } else {
      w.content(content);
    }
    w.mark("<|im_end|>\n");
  }
  if (add_generation_prompt) w.mark("<|im_start|>assistant\n");
}

// Llama 3.1-3.3: the system turn always opens with the knowledge and today's dates.
void llama31(std::span<const ChatMessage> msgs, bool add_generation_prompt, const std::string& date, Out& w) {
  w.mark("<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: " + date + "\n\n");
  std::size_t first = 0;
  if (!msgs.empty() && msgs[0].role == "system") {
    w.content(detail::strip(msgs[0].content));
    first = 1;
  }
  w.mark("<|eot_id|>");
  for (std::size_t i = first; i < msgs.size(); ++i) {
    w.mark("<|start_header_id|>" + msgs[i].role + "<|end_header_id|>\n\n");
    w.content(detail::strip(msgs[i].content));
    w.mark("<|eot_id|>");
  }
  if (add_generation_prompt) w.mark("<|start_header_id|>assistant<|end_header_id|>\n\n");
}

}  // namespace

void ChatTemplate::render_more(std::span<const ChatMessage> msgs, bool add_generation_prompt, bool lead_bos,
                               detail::MarkedText& w) const {
  switch (family_) {
    case Family::Qwen3: return qwen3(msgs, add_generation_prompt, w);
    case Family::Llama31:
      if (lead_bos) w.mark(bos_);
      return llama31(msgs, add_generation_prompt, date_, w);
    case Family::Phi4:
      for (const auto& m : msgs) {
        w.mark("<|im_start|>" + m.role + "<|im_sep|>");
        w.content(m.content);
        w.mark("<|im_end|>");
      }
      if (add_generation_prompt) w.mark("<|im_start|>assistant<|im_sep|>");
      return;
    case Family::Phi4Mini:
      for (const auto& m : msgs) {
        w.mark("<|" + m.role + "|>");
        w.content(m.content);
        w.mark("<|end|>");
      }
      w.mark(add_generation_prompt ? std::string("<|assistant|>") : eos_);
      return;
    case Family::Granite:
      for (const auto& m : msgs) {
        w.mark("<|start_of_role|>" + m.role + "<|end_of_role|>");
        w.content(m.content);
        w.mark("<|end_of_text|>\n");
      }
      // Granite 3's template writes the cue inside its message loop: nothing for none.
      if (add_generation_prompt && !msgs.empty()) w.mark("<|start_of_role|>assistant<|end_of_role|>");
      return;
    default: return;  // the families apply() renders itself
  }
}

}  // namespace inkling
