// The C ABI of chat templates.
#include "capi_support.hpp"

using namespace inkling::capi;

namespace {

// The named family adapted to the model's vocabulary, or the model's own template.
inkling::ChatTemplate template_for(const ink_model& model, const char* name) {
  if (!name) return inkling::ChatTemplate::for_model(*model.model);
  return inkling::ChatTemplate::named(name).adapted_to(model.model->tokenizer());
}

// Checks and copies the C messages.
ink_status read_messages(const char* fn, const ink_chat_message* messages, size_t n,
                         std::vector<inkling::ChatMessage>& out) {
  if (!messages && n > 0) return null_arg(fn, "messages");
  for (size_t i = 0; i < n; ++i) {
    if (!messages[i].role) return null_arg(fn, "a message's role");
    if (ink_status s = check_text(fn, messages[i].content, messages[i].content_len); s != INK_OK) return s;
    out.push_back({messages[i].role, std::string(messages[i].content ? messages[i].content : "", messages[i].content_len)});
  }
  return INK_OK;
}

}  // namespace

extern "C" {

ink_status ink_chat_apply(const ink_model* model, const char* template_name, const ink_chat_message* messages,
                          size_t n_messages, int add_generation_prompt, char* buf, size_t cap, size_t* len_out) {
  return guard([&]() -> ink_status {
    if (!model) return null_arg("ink_chat_apply", "model");
    std::vector<inkling::ChatMessage> msgs;
    if (ink_status s = read_messages("ink_chat_apply", messages, n_messages, msgs); s != INK_OK) return s;
    const std::string text = template_for(*model, template_name).apply(msgs, add_generation_prompt != 0);
    return copy_out("ink_chat_apply", text, buf, cap, len_out);
  });
}

ink_status ink_chat_tokenize(const ink_model* model, const char* template_name, const ink_chat_message* messages,
                             size_t n_messages, int add_generation_prompt, int32_t* ids, size_t cap, size_t* n_out) {
  return guard([&]() -> ink_status {
    if (!model) return null_arg("ink_chat_tokenize", "model");
    std::vector<inkling::ChatMessage> msgs;
    if (ink_status s = read_messages("ink_chat_tokenize", messages, n_messages, msgs); s != INK_OK) return s;
    const auto v = template_for(*model, template_name).encode(model->model->tokenizer(), msgs, add_generation_prompt != 0);
    return copy_ids("ink_chat_tokenize", v, ids, cap, n_out);
  });
}

ink_status ink_chat_stop_strings(const ink_model* model, const char* template_name, char* buf, size_t cap,
                                 size_t* len_out, size_t* count_out) {
  return guard([&]() -> ink_status {
    if (!model) return null_arg("ink_chat_stop_strings", "model");
    if (!count_out) return null_arg("ink_chat_stop_strings", "count_out");
    const auto stops = template_for(*model, template_name).stop_strings();
    std::string joined;
    for (const auto& s : stops) joined += s + '\0';
    *count_out = stops.size();
    return copy_out("ink_chat_stop_strings", joined, buf, cap, len_out);
  });
}

ink_status ink_chat_stop_tokens(const ink_model* model, const char* template_name, int32_t* ids, size_t cap,
                                size_t* n_out) {
  return guard([&]() -> ink_status {
    if (!model) return null_arg("ink_chat_stop_tokens", "model");
    const auto v = template_for(*model, template_name).stop_tokens(model->model->tokenizer());
    return copy_ids("ink_chat_stop_tokens", v, ids, cap, n_out);
  });
}

}  // extern "C"
