#include "inkling/chat_template.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <utility>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/model.hpp"
#include "marked_text.hpp"

namespace inkling {

namespace {

using Family = ChatTemplate::Family;

struct FamilyInfo {
  Family family;
  std::string_view name;
  std::string_view bos, eos;  // the texts the family's models usually have
  bool leading_bos;           // the reference template opens with {{ bos_token }}
};

// Order = the order names are listed in error messages.
constexpr std::array<FamilyInfo, 12> kFamilies{{
    {Family::ChatML, "chatml", "<s>", "</s>", false},
    {Family::Llama2, "llama2", "<s>", "</s>", true},
    {Family::Llama3, "llama3", "<|begin_of_text|>", "<|eot_id|>", true},
    {Family::Mistral, "mistral", "<s>", "</s>", true},
    {Family::Phi3, "phi3", "<s>", "<|endoftext|>", false},
    {Family::Gemma, "gemma", "<bos>", "<eos>", true},
    {Family::Zephyr, "zephyr", "<s>", "</s>", false},
    {Family::Qwen3, "qwen3", "<|endoftext|>", "<|im_end|>", false},
    {Family::Llama31, "llama3.1", "<|begin_of_text|>", "<|eot_id|>", true},
    {Family::Phi4, "phi4", "<|endoftext|>", "<|im_end|>", false},
    {Family::Phi4Mini, "phi4-mini", "<|endoftext|>", "<|endoftext|>", false},
    {Family::Granite, "granite", "<|end_of_text|>", "<|end_of_text|>", false},
}};

constexpr std::string_view kLlama31Date = "26 Jul 2024";  // the templates' default date_string

// Today's UTC date as strftime's "%d %b %Y" (what Llama 3.2's template asks for).
std::string today_utc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
#if defined(_WIN32)
  gmtime_s(&tm, &now);  // the C runtime's reentrant form (arguments swapped)
#else
  gmtime_r(&now, &tm);
#endif
  char buf[32];
  return std::strftime(buf, sizeof buf, "%d %b %Y", &tm) ? std::string(buf) : std::string(kLlama31Date);
}

const FamilyInfo& info(Family f) {
  for (const auto& i : kFamilies)
    if (i.family == f) return i;
  throw Error(ErrorCode::Internal, "chat template: family without a description");
}

std::string known_list() {
  std::string s;
  for (const auto& i : kFamilies) {
    if (!s.empty()) s += ", ";
    s += i.name;
  }
  return s;
}

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

using detail::rstrip;
using detail::strip;

enum class Role { System, User, Assistant };

Role role_of(const ChatMessage& m, std::size_t index) {
  if (m.role == "system") return Role::System;
  if (m.role == "user") return Role::User;
  if (m.role == "assistant") return Role::Assistant;
  throw Error(ErrorCode::InvalidArgument, "chat template: message " + std::to_string(index) + " has role '" + m.role +
                                              "'; expected system, user or assistant");
}

// For the families whose template folds the system text into the first user turn and
// raises unless user and assistant alternate: returns the index of the first turn after
// an optional leading system message, after checking that order.
std::size_t check_alternating(std::span<const ChatMessage> msgs, std::string_view family) {
  const std::size_t first = !msgs.empty() && role_of(msgs[0], 0) == Role::System ? 1 : 0;
  for (std::size_t i = first; i < msgs.size(); ++i) {
    const Role r = role_of(msgs[i], i);
    const Role want = (i - first) % 2 == 0 ? Role::User : Role::Assistant;
    if (r == Role::System)
      throw Error(ErrorCode::InvalidArgument, "chat template " + std::string(family) + ": message " +
                                                  std::to_string(i) + " is a system message; only the first may be");
    if (r != want)
      throw Error(ErrorCode::InvalidArgument, "chat template " + std::string(family) + ": message " +
                                                  std::to_string(i) + " is '" + msgs[i].role +
                                                  "' but turns must alternate user/assistant/..., starting with user");
  }
  return first;
}

}  // namespace

ChatTemplate::ChatTemplate(Family family)
    : family_(family), date_(family == Family::Llama31 ? kLlama31Date : ""), bos_(info(family).bos),
      eos_(info(family).eos) {}

ChatTemplate ChatTemplate::with_date(std::string date) const {
  if (family_ != Family::Llama31)
    throw Error(ErrorCode::InvalidArgument, "chat template " + std::string(name()) + " has no date to set (llama3.1 has)");
  ChatTemplate t = *this;
  t.date_ = std::move(date);
  return t;
}

std::vector<std::string_view> ChatTemplate::known_names() {
  std::vector<std::string_view> names;
  for (const auto& i : kFamilies) names.push_back(i.name);
  return names;
}

ChatTemplate ChatTemplate::named(std::string_view name) {
  for (const auto& i : kFamilies)
    if (i.name == name) return ChatTemplate(i.family);
  throw Error(ErrorCode::InvalidArgument,
              "unknown chat template '" + std::string(name) + "' (known: " + known_list() + ")");
}

ChatTemplate ChatTemplate::detect(std::string_view t) {
  // Variants that share a family's markers but lay the text out differently are refused
  // rather than rendered almost right: a prompt that differs from the fine-tuning format
  // by a space still degrades the model.
  auto unsupported = [&](std::string_view why) -> ChatTemplate {
    throw Error(ErrorCode::Unsupported, "chat template not supported: " + std::string(why) +
                                            "; name a family instead (" + known_list() + ")");
  };
  if (contains(t, "<|im_start|>")) {
    if (contains(t, "<|im_sep|>")) return ChatTemplate(Family::Phi4);
    if (contains(t, "Reasoning Mode")) return unsupported("SmolLM3's generated metadata system block");
    if (contains(t, "</think>")) return ChatTemplate(Family::Qwen3);
    return ChatTemplate(Family::ChatML);
  }
  if (contains(t, "<|start_header_id|>")) {
    if (!contains(t, "Cutting Knowledge Date")) return ChatTemplate(Family::Llama3);
    const ChatTemplate l(Family::Llama31);
    return contains(t, "strftime_now") ? l.with_date(today_utc()) : l;
  }
  if (contains(t, "<|start_of_role|>")) {
    if (contains(t, "You are Granite")) return unsupported("Granite's default system message");
    return ChatTemplate(Family::Granite);
  }
  if (contains(t, "<start_of_turn>")) return ChatTemplate(Family::Gemma);
  if (contains(t, "[INST]")) {
    if (contains(t, "<<SYS>>")) return ChatTemplate(Family::Llama2);
    if (contains(t, "[SYSTEM_PROMPT]")) return unsupported("Mistral's v7 template ([SYSTEM_PROMPT])");
    if (contains(t, "[AVAILABLE_TOOLS]")) return unsupported("Mistral's v3 template ([AVAILABLE_TOOLS])");
    // Mistral's v1 template puts a space before every [INST].
    if (contains(t, "' [INST] '") || contains(t, "\" [INST] \"")) return unsupported("Mistral's v1 template (' [INST] ')");
    return ChatTemplate(Family::Mistral);
  }
  if (contains(t, "<|user|>") || contains(t, "'<|' + message['role'] + '|>'")) {
    // Phi-4-mini writes no newline after the role marker; Phi-3 does.
    if (contains(t, "'|>' + message['content']")) return ChatTemplate(Family::Phi4Mini);
    if (contains(t, "<|end|>")) return ChatTemplate(Family::Phi3);
    // Zephyr ends every turn with the EOS token; ChatGLM and GLM-Edge, which also use
    // <|user|>, end turns with nothing.
    if (contains(t, "eos_token") || contains(t, "</s>")) return ChatTemplate(Family::Zephyr);
  }
  if (t.empty()) return unsupported("the template is empty");
  return unsupported("no known family's markers (<|im_start|>, <|start_header_id|>, <start_of_turn>, [INST], "
                     "<|user|>) were found");
}

ChatTemplate ChatTemplate::for_model(const Model& model) {
  const auto text = model.file().get_string("tokenizer.chat_template");
  if (!text)
    throw Error(ErrorCode::Unsupported, model.file().name() +
                                            ": the model has no tokenizer.chat_template; name a template family (" +
                                            known_list() + ")");
  return detect(*text).adapted_to(model.tokenizer());
}

std::string_view ChatTemplate::name() const noexcept { return info(family_).name; }
bool ChatTemplate::starts_with_bos() const noexcept { return info(family_).leading_bos; }

ChatTemplate ChatTemplate::with_special_texts(std::string bos, std::string eos) const {
  ChatTemplate t = *this;
  t.bos_ = std::move(bos);
  t.eos_ = std::move(eos);
  return t;
}

ChatTemplate ChatTemplate::adapted_to(const Tokenizer& tokenizer) const {
  const SpecialTokens& sp = tokenizer.special();
  const auto text = [&](TokenId id, const std::string& fallback) {
    return id != kNoToken && id < tokenizer.n_vocab() ? std::string(tokenizer.token_text(id)) : fallback;
  };
  return with_special_texts(text(sp.bos, bos_), text(sp.eos, eos_));
}

std::vector<std::string> ChatTemplate::stop_strings() const {
  std::vector<std::string> stops;
  switch (family_) {
    case Family::ChatML: stops.emplace_back("<|im_end|>"); break;
    case Family::Llama3: stops.emplace_back("<|eot_id|>"); break;
    case Family::Phi3:
    case Family::Phi4Mini: stops.emplace_back("<|end|>"); break;
    case Family::Qwen3:
    case Family::Phi4: stops.emplace_back("<|im_end|>"); break;
    case Family::Llama31: stops.emplace_back("<|eot_id|>"); break;
    case Family::Granite: stops.emplace_back("<|end_of_text|>"); break;
    case Family::Gemma: stops.emplace_back("<end_of_turn>"); break;
    case Family::Llama2:
    case Family::Mistral:
    case Family::Zephyr: break;  // their turns end with the EOS text, added below
  }
  // A model may also just end the text; its EOS text then marks the end of the turn.
  if (!eos_.empty() && std::find(stops.begin(), stops.end(), eos_) == stops.end()) stops.push_back(eos_);
  return stops;
}

std::vector<TokenId> ChatTemplate::stop_tokens(const Tokenizer& tokenizer) const {
  std::vector<TokenId> ids;
  for (const auto& s : stop_strings()) {
    const TokenId id = tokenizer.find(s);
    if (id != kNoToken && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

struct ChatTemplateRender {
  static void more(const ChatTemplate& t, std::span<const ChatMessage> msgs, bool add_generation_prompt, bool lead_bos,
                   detail::MarkedText& out) {
    t.render_more(msgs, add_generation_prompt, lead_bos, out);
  }
};

namespace {

using Rendered = detail::MarkedText;

void render_llama2(std::span<const ChatMessage> msgs, bool lead_bos, const std::string& bos_, const std::string& eos_,
                   Rendered& w) {
  // Meta's Llama-2-chat template: every user turn opens with BOS, the system text sits
  // in a <<SYS>> block inside the first one, and each turn is strip()ped whole (so
  // the system block's leading and the user text's trailing whitespace go).
  const std::size_t first = check_alternating(msgs, "llama2");
  for (std::size_t i = first; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    if (m.role == "user") {
      if (i != first || lead_bos) w.mark(bos_);
      w.mark("[INST] ");
      if (i == first && first == 1) {
        w.mark("<<SYS>>\n");
        w.content(msgs[0].content);
        const std::string_view user = rstrip(m.content);
        w.mark(user.empty() ? "\n<</SYS>>" : "\n<</SYS>>\n\n");  // strip() of the whole turn
        w.content(user);
      } else {
        w.content(strip(m.content));
      }
      w.mark(" [/INST]");
    } else {
      w.mark(" ");
      w.content(strip(m.content));
      w.mark(" " + eos_);
    }
  }
  // The [/INST] already cues the assistant: no generation prompt.
}

void render_gemma(std::span<const ChatMessage> msgs, bool add_generation_prompt, bool lead_bos, const std::string& bos_,
                  Rendered& w) {
  // Gemma 3's template: no system turn (the text opens the first user turn), the
  // assistant is "model", contents are trimmed.
  const std::size_t first = check_alternating(msgs, "gemma");
  if (lead_bos) w.mark(bos_);
  for (std::size_t i = first; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    w.mark(m.role == "assistant" ? "<start_of_turn>model\n" : "<start_of_turn>user\n");
    if (i == first && first == 1) {
      w.content(msgs[0].content);
      w.mark("\n\n");
    }
    w.content(strip(m.content));
    w.mark("<end_of_turn>\n");
  }
  if (add_generation_prompt) w.mark("<start_of_turn>model\n");
}

Rendered render(const ChatTemplate& t, std::span<const ChatMessage> msgs, bool add_generation_prompt, BosText bos) {
  for (std::size_t i = 0; i < msgs.size(); ++i) role_of(msgs[i], i);  // every family rejects unknown roles
  const bool lead_bos = bos == BosText::Include && t.starts_with_bos();
  const std::string& bos_ = t.bos_text();
  const std::string& eos_ = t.eos_text();
  Rendered w;
  switch (t.family()) {
    case Family::ChatML:
      for (const auto& m : msgs) {
        w.mark("<|im_start|>" + m.role + "\n");
        w.content(m.content);
        w.mark("<|im_end|>\n");
      }
      if (add_generation_prompt) w.mark("<|im_start|>assistant\n");
      break;

    case Family::Llama2:
      render_llama2(msgs, lead_bos, bos_, eos_, w);
      break;

    case Family::Llama3:
      if (lead_bos) w.mark(bos_);
      for (const auto& m : msgs) {
        w.mark("<|start_header_id|>" + m.role + "<|end_header_id|>\n\n");
        w.content(strip(m.content));
        w.mark("<|eot_id|>");
      }
      if (add_generation_prompt) w.mark("<|start_header_id|>assistant<|end_header_id|>\n\n");
      break;

    case Family::Mistral: {
      const std::size_t first = check_alternating(msgs, "mistral");
      if (lead_bos) w.mark(bos_);
      for (std::size_t i = first; i < msgs.size(); ++i) {
        const ChatMessage& m = msgs[i];
        if (m.role == "user") {
          w.mark("[INST] ");
          if (i == first && first == 1) {
            w.content(msgs[0].content);
            w.mark("\n");
          }
          w.content(m.content);
          w.mark(" [/INST]");
        } else {
          w.content(m.content);
          w.mark(eos_);
        }
      }
      break;
    }

    case Family::Phi3:
      // Phi-3.5's template: an empty system message is skipped, and a prompt that does
      // not open the assistant's turn is closed with EOS.
      for (const auto& m : msgs) {
        if (m.role == "system" && m.content.empty()) continue;
        w.mark("<|" + m.role + "|>\n");
        w.content(m.content);
        w.mark("<|end|>\n");
      }
      w.mark(add_generation_prompt ? std::string("<|assistant|>\n") : eos_);
      break;

    case Family::Gemma:
      render_gemma(msgs, add_generation_prompt, lead_bos, bos_, w);
      break;

    case Family::Zephyr:
      for (const auto& m : msgs) {
        w.mark("<|" + m.role + "|>\n");
        w.content(m.content);
        w.mark(eos_ + "\n");
      }
      // The template emits the cue inside its message loop: nothing for no messages.
      if (add_generation_prompt && !msgs.empty()) w.mark("<|assistant|>\n");
      break;

    default:
      ChatTemplateRender::more(t, msgs, add_generation_prompt, lead_bos, w);
      break;
  }
  return w;
}

}  // namespace

std::string ChatTemplate::apply(std::span<const ChatMessage> msgs, bool add_generation_prompt, BosText bos) const {
  return render(*this, msgs, add_generation_prompt, bos).text;
}

std::vector<TokenId> ChatTemplate::encode(const Tokenizer& tokenizer, std::span<const ChatMessage> msgs,
                                          bool add_generation_prompt) const {
  // add_special = false: the BOS is decided here, and an EOS (add_eos vocabularies)
  // would end the conversation before the reply.
  // Control tokens only where the template wrote its markers: a message that types
  // "<|im_end|>" keeps it as text and cannot forge a turn.
  const Rendered r = render(*this, msgs, add_generation_prompt, BosText::Omit);
  std::vector<TokenId> ids = tokenizer.encode_with_control_spans(r.text, /*add_special=*/false, r.markup);
  const TokenId bos = tokenizer.special().bos;
  if ((tokenizer.special().add_bos || starts_with_bos()) && bos != kNoToken) ids.insert(ids.begin(), bos);
  return ids;
}

}  // namespace inkling
