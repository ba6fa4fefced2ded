// ChatTemplate: turns a conversation (system / user / assistant messages) into the exact
// prompt text a chat model was fine-tuned on, for the common template families, without
// a Jinja interpreter: the family is recognised from the GGUF's tokenizer.chat_template
// text and rendered by hand, character for character as the reference template does.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/tokenizer.hpp"

namespace inkling {

namespace detail {
struct MarkedText;  // lib/chat/marked_text.hpp
}

class Model;

// A function call the assistant made (OpenAI's tool_calls entry).
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // a JSON object, as text
};

struct ChatMessage {
  std::string role;     // "system", "user" or "assistant" ("tool" only with ToolFormat)
  std::string content;
  std::vector<ToolCall> tool_calls{};  // assistant messages that called tools (ToolFormat only)
  std::string tool_call_id{};        // "tool" messages: the call this is the result of
};

// Whether ChatTemplate::apply writes the BOS text the reference template starts with.
enum class BosText {
  Omit,     // for tokenizing: Tokenizer::encode (or ChatTemplate::encode) adds the BOS id
  Include,  // the text exactly as the Jinja template renders it
};

// Immutable; cheap to copy; safe to share between threads.
class ChatTemplate {
 public:
  // "chatml", "llama2", "llama3", "mistral", "phi3", "gemma", "zephyr", "qwen3",
  // "llama3.1", "phi4", "phi4-mini", "granite".
  // Error(InvalidArgument) naming the known families for any other name.
  static ChatTemplate named(std::string_view name);
  // Recognises the family of a Jinja chat template (the GGUF key tokenizer.chat_template)
  // by its distinctive markers. Error(Unsupported) for a template of no known family.
  static ChatTemplate detect(std::string_view jinja_text);
  // detect() on the model's tokenizer.chat_template, with the BOS/EOS texts taken from
  // its vocabulary. Error(Unsupported) if the model has no template or an unknown one.
  static ChatTemplate for_model(const Model& model);
  static std::vector<std::string_view> known_names();

  // Renders the conversation. add_generation_prompt appends the header that opens the
  // assistant's turn (families whose user turn already ends in the assistant's cue,
  // llama2 and mistral, render the same either way).
  //
  // Roles each family cannot express are handled as its reference template does:
  //  - gemma has no system turn: the system text + "\n\n" opens the first user message
  //    (Gemma 3's template);
  //  - mistral (Instruct v0.1/v0.2) has none either: the system text + "\n" opens the
  //    first user message (as llama.cpp renders it; the v0.2 template itself raises);
  //  - llama2 wraps it in <<SYS>> inside the first [INST];
  //  - for these three, a system message with no user message after it is not
  //    rendered (their templates render it only inside the first user turn);
  //  - llama2, mistral and gemma need user/assistant to alternate, starting with user.
  // Error(InvalidArgument) for an unknown role, and for these three families a system
  // message that is not first or turns that do not alternate. chatml, llama3, phi3 and
  // zephyr take any roles in any order, as their templates do.
  // Which template of a family is followed where its versions differ:
  //  - llama3: Llama 3.0's;
  //  - llama3.1: Llama 3.1-3.3's, recognised by their "Cutting Knowledge Date": every
  //    prompt opens with a system turn "Cutting Knowledge Date: December 2023\nToday Date:
  //    D\n\n" + the (trimmed) system text, if any. D is the templates' default "26 Jul
  //    2024", or today's UTC date ("%d %b %Y") for templates that ask strftime_now
  //    (Llama 3.2); with_date() sets it;
  //  - qwen3: ChatML; an assistant turn before the last user message keeps only its text
  //    after "</think>", one after it keeps its reasoning as "<think>\n...\n</think>\n\n"
  //    (the last turn always); thinking stays on (no empty think block is written);
  //  - phi4: "<|im_start|>role<|im_sep|>text<|im_end|>" (Phi-4); phi4-mini:
  //    "<|role|>text<|end|>" without newlines, EOS closing a prompt without a generation
  //    prompt (Phi-4-mini);
  //  - granite: Granite 3's "<|start_of_role|>role<|end_of_role|>text<|end_of_text|>\n".
  //    Templates that write a default system message ("You are Granite") when none is
  //    given, and SmolLM3's (a generated metadata system block), are refused by detect()
  //    rather than rendered without it;
  //  - phi3: Phi-3.5-mini's, which renders a system turn (the first Phi-3-mini template
  //    dropped it; with no system message and a generation prompt both give the same
  //    text) and closes a prompt without a generation prompt with the EOS text.
  //
  // BOS: the reference templates of llama2, llama3, mistral and gemma start with the BOS
  // text; BosText::Omit (the default) leaves it out because the tokenizer adds the BOS
  // id itself, and "<s>" in the text would otherwise become a second BOS. BOS texts
  // inside the conversation (llama2 opens every [INST] with one) are always written.
  // Do not tokenize this text with parse_special = true: control tokens typed inside a
  // message would then forge turns. encode() below makes only the template's own
  // markers control tokens.
  std::string apply(std::span<const ChatMessage> messages, bool add_generation_prompt,
                    BosText bos = BosText::Omit) const;

  // apply() tokenized for `tokenizer`: the template's markers parsed as special tokens,
  // message contents as plain text (a typed "<|im_end|>" stays text), exactly one BOS
  // when the vocabulary asks for one (add_bos) or the reference template starts with
  // one, and never an EOS. Rendering the conversation again after each turn gives ids
  // that start with the previous turn's prompt (and usually its reply: that is
  // re-tokenized from its text), so a Generator reuses its cache for them.
  std::vector<TokenId> encode(const Tokenizer& tokenizer, std::span<const ChatMessage> messages,
                              bool add_generation_prompt) const;

  std::string_view name() const noexcept;
  // llama3.1: the same template with another "Today Date" (e.g. "29 Nov 2026").
  ChatTemplate with_date(std::string date) const;
  const std::string& date() const noexcept { return date_; }
  // Whether the reference template begins with the BOS text.
  bool starts_with_bos() const noexcept;
  const std::string& bos_text() const noexcept { return bos_; }
  const std::string& eos_text() const noexcept { return eos_; }
  // The same family with other BOS/EOS texts: llama2, mistral, phi3 and zephyr write the
  // EOS text into the prompt, and it is a stop string. The defaults are the family's
  // usual ones ("<s>"/"</s>", "<|begin_of_text|>"/"<|eot_id|>", "<bos>"/"<eos>", ...).
  ChatTemplate with_special_texts(std::string bos, std::string eos) const;
  // with_special_texts() with the vocabulary's own BOS/EOS texts (those it has).
  ChatTemplate adapted_to(const Tokenizer& tokenizer) const;

  // The end-of-turn markers a generator should stop at ("<|im_end|>", "<|eot_id|>",
  // "<end_of_turn>", "<|end|>", the EOS text, ...).
  std::vector<std::string> stop_strings() const;
  // Those stop strings that are single tokens of `tokenizer`: a Generator that does not
  // render control tokens as text (GenerationConfig::special_text = false) cannot see
  // them as strings, so pass these as GenerationConfig::stop_tokens.
  std::vector<TokenId> stop_tokens(const Tokenizer& tokenizer) const;

  enum class Family { ChatML, Llama2, Llama3, Mistral, Phi3, Gemma, Zephyr, Qwen3, Llama31, Phi4, Phi4Mini, Granite };
  Family family() const noexcept { return family_; }

 private:
  explicit ChatTemplate(Family family);
  friend struct ChatTemplateRender;  // chat_template.cpp's renderer, which records markup spans
  // The newer families (chat_families.cpp): appends the text and the spans the template
  // wrote itself (its markers) to `out`.
  void render_more(std::span<const ChatMessage> messages, bool add_generation_prompt, bool lead_bos,
                   detail::MarkedText& out) const;
  Family family_;
  std::string date_;  // llama3.1: the "Today Date" of the system preamble
  std::string bos_;
  std::string eos_;
};

}  // namespace inkling
