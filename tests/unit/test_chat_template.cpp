// Chat templates: every family rendered character for character as its reference Jinja
// template does, BOS handling, family detection from real template texts, errors, and
// tokenization with a real vocabulary. The expected texts were rendered with Jinja2 as
// transformers renders (trim_blocks, lstrip_blocks) from the templates below, Llama 2's
// from Meta's, phi3's from Phi-3.5-mini's and gemma's from Gemma 3's (google/gemma-3-4b-it);
// the 6-message conversation is llama.cpp's test-chat-template one, and its expected
// outputs agree with llama.cpp's.
#include <doctest/doctest.h>

#include <ctime>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/chat_template.hpp"
#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/model.hpp"
#include "inkling/tokenizer.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

const std::vector<ChatMessage> kFull = {
    {"system", "You are a helpful assistant"},
    {"user", "Hello"},
    {"assistant", "Hi there"},
    {"user", "Who are you"},
    {"assistant", "   I am an assistant   "},
    {"user", "Another question"},
};
const std::vector<ChatMessage> kSystemUser = {{"system", "You are a helpful assistant"}, {"user", "Hello"}};
const std::vector<ChatMessage> kMultiTurn = {{"user", "Hello"}, {"assistant", "Hi there"}, {"user", "Who are you"}};
const std::vector<ChatMessage> kOneUser = {{"user", " Hi "}};

struct Rendered {
  const char* family;
  const std::vector<ChatMessage>* conversation;
  bool add_generation_prompt;
  std::string_view jinja;  // the reference template's output, BOS text included
};

// Rendered with BOS "<s>" / EOS "</s>" except llama3 ("<|begin_of_text|>"), gemma
// ("<bos>"/"<eos>") and phi3 (EOS "<|endoftext|>"): the families' defaults.
// mistral's v0.2 template raises on a system message; these expect the system text
// joined to the first user message with "\n", as llama.cpp renders it.
const Rendered kRendered[] = {
    {"chatml", &kFull, true,
     "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n"},
    {"chatml", &kFull, false,
     "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"},
    {"chatml", &kSystemUser, true,
     "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"},
    {"chatml", &kSystemUser, false,
     "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"},
    {"chatml", &kMultiTurn, true,
     "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n"},
    {"chatml", &kMultiTurn, false,
     "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"},
    {"chatml", &kOneUser, true,
     "<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n"},
    {"chatml", &kOneUser, false,
     "<|im_start|>user\n Hi <|im_end|>\n"},
    {"llama2", &kFull, true,
     "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s><s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]"},
    {"llama2", &kFull, false,
     "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s><s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]"},
    {"llama2", &kSystemUser, true,
     "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]"},
    {"llama2", &kSystemUser, false,
     "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]"},
    {"llama2", &kMultiTurn, true,
     "<s>[INST] Hello [/INST] Hi there </s><s>[INST] Who are you [/INST]"},
    {"llama2", &kMultiTurn, false,
     "<s>[INST] Hello [/INST] Hi there </s><s>[INST] Who are you [/INST]"},
    {"llama2", &kOneUser, true,
     "<s>[INST] Hi [/INST]"},
    {"llama2", &kOneUser, false,
     "<s>[INST] Hi [/INST]"},
    {"mistral", &kFull, true,
     "<s>[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]"},
    {"mistral", &kFull, false,
     "<s>[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]"},
    {"mistral", &kSystemUser, true,
     "<s>[INST] You are a helpful assistant\nHello [/INST]"},
    {"mistral", &kSystemUser, false,
     "<s>[INST] You are a helpful assistant\nHello [/INST]"},
    {"mistral", &kMultiTurn, true,
     "<s>[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]"},
    {"mistral", &kMultiTurn, false,
     "<s>[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]"},
    {"mistral", &kOneUser, true,
     "<s>[INST]  Hi  [/INST]"},
    {"mistral", &kOneUser, false,
     "<s>[INST]  Hi  [/INST]"},
    {"llama3", &kFull, true,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"llama3", &kFull, false,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"},
    {"llama3", &kSystemUser, true,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"llama3", &kSystemUser, false,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"},
    {"llama3", &kMultiTurn, true,
     "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"llama3", &kMultiTurn, false,
     "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"},
    {"llama3", &kOneUser, true,
     "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"llama3", &kOneUser, false,
     "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"},
    {"phi3", &kFull, true,
     "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n"},
    {"phi3", &kFull, false,
     "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|endoftext|>"},
    {"phi3", &kSystemUser, true,
     "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\n"},
    {"phi3", &kSystemUser, false,
     "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|endoftext|>"},
    {"phi3", &kMultiTurn, true,
     "<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n"},
    {"phi3", &kMultiTurn, false,
     "<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|endoftext|>"},
    {"phi3", &kOneUser, true,
     "<|user|>\n Hi <|end|>\n<|assistant|>\n"},
    {"phi3", &kOneUser, false,
     "<|user|>\n Hi <|end|>\n<|endoftext|>"},
    {"gemma", &kFull, true,
     "<bos><start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n"},
    {"gemma", &kFull, false,
     "<bos><start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n"},
    {"gemma", &kSystemUser, true,
     "<bos><start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\n"},
    {"gemma", &kSystemUser, false,
     "<bos><start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n"},
    {"gemma", &kMultiTurn, true,
     "<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\n"},
    {"gemma", &kMultiTurn, false,
     "<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n"},
    {"gemma", &kOneUser, true,
     "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"},
    {"gemma", &kOneUser, false,
     "<bos><start_of_turn>user\nHi<end_of_turn>\n"},
    {"zephyr", &kFull, true,
     "<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi there</s>\n<|user|>\nWho are you</s>\n<|assistant|>\n   I am an assistant   </s>\n<|user|>\nAnother question</s>\n<|assistant|>\n"},
    {"zephyr", &kFull, false,
     "<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi there</s>\n<|user|>\nWho are you</s>\n<|assistant|>\n   I am an assistant   </s>\n<|user|>\nAnother question</s>\n"},
    {"zephyr", &kSystemUser, true,
     "<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n<|assistant|>\n"},
    {"zephyr", &kSystemUser, false,
     "<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n"},
    {"zephyr", &kMultiTurn, true,
     "<|user|>\nHello</s>\n<|assistant|>\nHi there</s>\n<|user|>\nWho are you</s>\n<|assistant|>\n"},
    {"zephyr", &kMultiTurn, false,
     "<|user|>\nHello</s>\n<|assistant|>\nHi there</s>\n<|user|>\nWho are you</s>\n"},
    {"zephyr", &kOneUser, true,
     "<|user|>\n Hi </s>\n<|assistant|>\n"},
    {"zephyr", &kOneUser, false,
     "<|user|>\n Hi </s>\n"},
};

std::string_view without_prefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix ? s.substr(prefix.size()) : s;
}

// Real templates, as found in the models' tokenizer_config.json / GGUF metadata.
constexpr const char* kChatmlHermes =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
    "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
constexpr const char* kLlama2Meta =
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
    "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif "
    "%}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ "
    "raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if "
    "loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
    "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if "
    "message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] "
    "== 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
constexpr const char* kMistralV02 =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ "
    "raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if "
    "message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == "
    "'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles "
    "are supported!') }}{% endif %}{% endfor %}";
constexpr const char* kLlama3 =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 "
    "%}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
constexpr const char* kPhi3Mini =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\\n' + "
    "message['content'] + '<|end|>' + '\\n' + '<|assistant|>' + '\\n'}}{% elif (message['role'] == 'assistant') "
    "%}{{message['content'] + '<|end|>' + '\\n'}}{% endif %}{% endfor %}";
constexpr const char* kGemma7b =
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for "
    "message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ "
    "raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if "
    "(message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif "
    "%}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if "
    "add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";
constexpr const char* kGemma3 =
    "{{ bos_token }}\n{%- if messages[0]['role'] == 'system' -%}\n    {%- if messages[0]['content'] is string -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}\n    {%- else -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}\n    {%- endif -%}\n"
    "    {%- set loop_messages = messages[1:] -%}\n{%- else -%}\n    {%- set first_user_prefix = \"\" -%}\n"
    "    {%- set loop_messages = messages -%}\n{%- endif -%}\n{%- for message in loop_messages -%}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    "        {{ raise_exception(\"Conversation roles must alternate user/assistant/user/assistant/...\") }}\n"
    "    {%- endif -%}\n    {%- if (message['role'] == 'assistant') -%}\n        {%- set role = \"model\" -%}\n"
    "    {%- else -%}\n        {%- set role = message['role'] -%}\n    {%- endif -%}\n"
    "    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else \"\") }}\n"
    "    {%- if message['content'] is string -%}\n        {{ message['content'] | trim }}\n"
    "    {%- elif message['content'] is iterable -%}\n        {%- for item in message['content'] -%}\n"
    "            {%- if item['type'] == 'image' -%}\n                {{ '<start_of_image>' }}\n"
    "            {%- elif item['type'] == 'text' -%}\n                {{ item['text'] | trim }}\n"
    "            {%- endif -%}\n        {%- endfor -%}\n    {%- else -%}\n"
    "        {{ raise_exception(\"Invalid content type\") }}\n    {%- endif -%}\n    {{ '<end_of_turn>\n' }}\n"
    "{%- endfor -%}\n{%- if add_generation_prompt -%}\n    {{'<start_of_turn>model\n'}}\n{%- endif -%}\n";
constexpr const char* kZephyr =
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + "
    "eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% "
    "elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif "
    "%}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

// Templates of other families, or of variants laid out differently from ours.
constexpr const char* kVicuna =
    "{%- for message in messages %}{%- if message['role'] == 'system' -%}{{- '' + message['content'] + '\\n\\n' "
    "-}}{%- else -%}{%- if message['role'] == 'user' -%}{{-'USER: ' + message['content'] + '\\n'-}}{%- else "
    "-%}{{-'ASSISTANT: ' + message['content'] + '</s>\\n' -}}{%- endif -%}{%- endif -%}{%- endfor -%}{%- if "
    "add_generation_prompt -%}{{-'ASSISTANT:'-}}{%- endif -%}";
constexpr const char* kMistralV7 =
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + "
    "message['content'] + '[/INST]' }}{% elif message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' + "
    "message['content'] + '[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] "
    "+ eos_token }}{% endif %}{% endfor %}";
constexpr const char* kPhi4 =
    "{% for message in messages %}{% if (message['role'] == 'system') %}{{'<|im_start|>system<|im_sep|>' + "
    "message['content'] + '<|im_end|>'}}{% endif %}{% endfor %}";
constexpr const char* kSmolLM3 =
    "{{- \"<|im_start|>system\\n\" -}}{{- \"## Metadata\\n\\n\" -}}{{- \"Reasoning Mode: \" + reasoning_mode + "
    "\"\\n\\n\" -}}{%- for message in messages -%}{{- '<|im_start|>' + message.role + '\\n' + message.content + "
    "'<|im_end|>\\n' -}}{%- endfor -%}";
constexpr const char* kGraniteDefault =
    "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- else %}{%- set "
    "system_message = \"Knowledge Cutoff Date: April 2024.\\nYou are Granite, developed by IBM.\" %}{%- endif %}{{- "
    "'<|start_of_role|>system<|end_of_role|>' + system_message + '<|end_of_text|>\\n' }}";
constexpr const char* kGlmEdge =
    "{% for item in messages %}{% if item['role'] == 'system' %}<|system|>\\n{{ item['content'] }}{% elif "
    "item['role'] == 'user' %}<|user|>\\n{{ item['content'] }}{% endif %}{% endfor %}<|assistant|>";

}  // namespace

TEST_CASE("every family renders conversations exactly as its reference template") {
  for (const auto& r : kRendered) {
    const ChatTemplate t = ChatTemplate::named(r.family);
    CAPTURE(r.family);
    CAPTURE(r.conversation->size());
    CAPTURE(r.add_generation_prompt);
    CHECK(t.name() == r.family);
    CHECK(t.apply(*r.conversation, r.add_generation_prompt, BosText::Include) == r.jinja);
    // Omit drops exactly the leading BOS text, and only for templates that start with it.
    const std::string omitted = t.apply(*r.conversation, r.add_generation_prompt);
    if (t.starts_with_bos()) {
      CHECK(r.jinja.substr(0, t.bos_text().size()) == t.bos_text());
      CHECK(omitted == without_prefix(r.jinja, t.bos_text()));
    } else {
      CHECK(omitted == r.jinja);
    }
  }
}

TEST_CASE("the 6-message conversation matches llama.cpp's expected outputs") {
  // llama.cpp's test-chat-template renders without the leading BOS; these are its texts.
  const std::vector<ChatMessage> conv = kFull;
  CHECK(ChatTemplate::named("chatml").apply(conv, true) ==
        "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
        "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
        "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
        "<|im_start|>assistant\n");
  CHECK(ChatTemplate::named("mistral").apply(conv, true) ==
        "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant"
        "   </s>[INST] Another question [/INST]");
  CHECK(ChatTemplate::named("gemma").apply(conv, true) ==
        "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi "
        "there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an "
        "assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n");
  CHECK(ChatTemplate::named("llama3").apply(conv, true) ==
        "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|"
        "end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi "
        "there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are "
        "you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an "
        "assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother "
        "question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  // vigogne's template is Meta's without the BOS before each [INST]; same text otherwise.
  std::string vigogne =
      "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s>[INST] Who are you [/INST] "
      "I am an assistant </s>[INST] Another question [/INST]";
  for (std::size_t at = vigogne.find("</s>[INST]"); at != std::string::npos; at = vigogne.find("</s>[INST]", at + 1))
    vigogne.insert(at + 4, "<s>");
  CHECK(ChatTemplate::named("llama2").apply(conv, true) == vigogne);
}

TEST_CASE("whitespace is stripped where the reference templates strip it") {
  const std::vector<ChatMessage> conv = {{"system", "  Be brief  "}, {"user", "  Hi  "}};
  // llama2 strips the whole first turn (system block + user text) as one string.
  CHECK(ChatTemplate::named("llama2").apply(conv, true, BosText::Include) ==
        "<s>[INST] <<SYS>>\n  Be brief  \n<</SYS>>\n\n  Hi [/INST]");
  // gemma trims the user text but not the system prefix.
  CHECK(ChatTemplate::named("gemma").with_special_texts("<s>", "</s>").apply(conv, true, BosText::Include) ==
        "<s><start_of_turn>user\n  Be brief  \n\nHi<end_of_turn>\n<start_of_turn>model\n");
  CHECK(ChatTemplate::named("mistral").apply(conv, true, BosText::Include) == "<s>[INST]   Be brief  \n  Hi   [/INST]");
}

TEST_CASE("special texts: the EOS text is written into the prompt and is a stop string") {
  const std::vector<ChatMessage> conv = {{"user", "a"}, {"assistant", "b"}, {"user", "c"}};
  const ChatTemplate z = ChatTemplate::named("zephyr").with_special_texts("<s>", "<|endoftext|>");
  CHECK(z.apply(conv, true) == "<|user|>\na<|endoftext|>\n<|assistant|>\nb<|endoftext|>\n<|user|>\nc<|endoftext|>\n"
                               "<|assistant|>\n");
  CHECK(z.stop_strings() == std::vector<std::string>{"<|endoftext|>"});
  const ChatTemplate l2 = ChatTemplate::named("llama2").with_special_texts("[B]", "[E]");
  CHECK(l2.apply(conv, true, BosText::Include) == "[B][INST] a [/INST] b [E][B][INST] c [/INST]");
}

TEST_CASE("stop strings are the families' end-of-turn markers") {
  using V = std::vector<std::string>;
  CHECK(ChatTemplate::named("chatml").stop_strings() == V{"<|im_end|>", "</s>"});
  CHECK(ChatTemplate::named("llama2").stop_strings() == V{"</s>"});
  CHECK(ChatTemplate::named("llama3").stop_strings() == V{"<|eot_id|>"});
  CHECK(ChatTemplate::named("mistral").stop_strings() == V{"</s>"});
  CHECK(ChatTemplate::named("phi3").stop_strings() == V{"<|end|>", "<|endoftext|>"});
  CHECK(ChatTemplate::named("gemma").stop_strings() == V{"<end_of_turn>", "<eos>"});
  CHECK(ChatTemplate::named("zephyr").stop_strings() == V{"</s>"});
}

TEST_CASE("named(): known names, and an error listing them for an unknown one") {
  const auto names = ChatTemplate::known_names();
  CHECK(names.size() == 12);
  for (const auto n : names) CHECK(ChatTemplate::named(n).name() == n);
  try {
    (void)ChatTemplate::named("vicuna");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::InvalidArgument);
    const std::string what = e.what();
    CHECK(what.find("vicuna") != std::string::npos);
    for (const auto n : names) CHECK(what.find(std::string(n)) != std::string::npos);
  }
  CHECK_THROWS_AS((void)ChatTemplate::named(""), Error);
  CHECK_THROWS_AS((void)ChatTemplate::named("ChatML"), Error);  // names are exact
}

TEST_CASE("detect() recognises real templates of each family") {
  CHECK(ChatTemplate::detect(kChatmlHermes).name() == "chatml");
  CHECK(ChatTemplate::detect(kLlama2Meta).name() == "llama2");
  CHECK(ChatTemplate::detect(kMistralV02).name() == "mistral");
  CHECK(ChatTemplate::detect(kLlama3).name() == "llama3");
  CHECK(ChatTemplate::detect(kPhi3Mini).name() == "phi3");
  CHECK(ChatTemplate::detect(kGemma7b).name() == "gemma");
  CHECK(ChatTemplate::detect(kGemma3).name() == "gemma");
  CHECK(ChatTemplate::detect(kZephyr).name() == "zephyr");
  CHECK(ChatTemplate::detect(kPhi4).name() == "phi4");
}

TEST_CASE("detect() refuses unknown templates and differently laid-out variants") {
  for (const char* t : {"INVALID TEMPLATE", "", kVicuna, kMistralV7, kGlmEdge, kSmolLM3, kGraniteDefault}) {
    CAPTURE(t);
    try {
      (void)ChatTemplate::detect(t);
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Unsupported);
      CHECK(std::string(e.what()).find("chatml") != std::string::npos);  // says what to do instead
    }
  }
}

TEST_CASE("roles and orders a family cannot express are errors") {
  const std::vector<ChatMessage> bad_role = {{"tool", "x"}};
  for (const auto n : ChatTemplate::known_names()) {
    CAPTURE(n);
    CHECK_THROWS_AS((void)ChatTemplate::named(n).apply(bad_role, true), Error);
  }
  const std::vector<ChatMessage> assistant_first = {{"assistant", "x"}, {"user", "y"}};
  const std::vector<ChatMessage> two_users = {{"user", "x"}, {"user", "y"}};
  const std::vector<ChatMessage> late_system = {{"user", "x"}, {"assistant", "y"}, {"system", "z"}, {"user", "w"}};
  for (const char* n : {"llama2", "mistral", "gemma"}) {
    CAPTURE(n);
    const ChatTemplate t = ChatTemplate::named(n);
    for (const auto* conv : {&assistant_first, &two_users, &late_system}) {
      try {
        (void)t.apply(*conv, true);
        FAIL("expected an error");
      } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidArgument);
      }
    }
  }
  // Families whose templates take any order render them.
  CHECK(ChatTemplate::named("chatml").apply(late_system, false) ==
        "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\ny<|im_end|>\n<|im_start|>system\nz<|im_end|>\n"
        "<|im_start|>user\nw<|im_end|>\n");
  CHECK(ChatTemplate::named("phi3").apply(two_users, true) == "<|user|>\nx<|end|>\n<|user|>\ny<|end|>\n<|assistant|>\n");
}

TEST_CASE("an empty conversation renders only what the templates write outside their loop") {
  const std::vector<ChatMessage> none;
  CHECK(ChatTemplate::named("chatml").apply(none, true) == "<|im_start|>assistant\n");
  CHECK(ChatTemplate::named("zephyr").apply(none, true).empty());
  CHECK(ChatTemplate::named("llama3").apply(none, true, BosText::Include) ==
        "<|begin_of_text|><|start_header_id|>assistant<|end_header_id|>\n\n");
  CHECK(ChatTemplate::named("llama2").apply(none, true, BosText::Include).empty());
}

TEST_CASE("each turn's rendering starts with the previous turn's (the KV cache can be reused)") {
  for (const auto n : ChatTemplate::known_names()) {
    CAPTURE(n);
    const ChatTemplate t = ChatTemplate::named(n);
    std::vector<ChatMessage> conv = {{"user", "Hello"}};
    const std::string turn1 = t.apply(conv, true);
    conv.push_back({"assistant", "Hi there"});
    conv.push_back({"user", "Who are you"});
    const std::string turn2 = t.apply(conv, true);
    CHECK(turn2.substr(0, turn1.size()) == turn1);
  }
}

TEST_CASE("for_model() and encode() with a real Phi-3 vocabulary and model") {
  const auto vocab = test::require_shared("vocab/ggml-vocab-phi-3.gguf");
  const auto model_path = test::require_shared("models/synth-phi3.gguf");
  if (!vocab || !model_path) return;
  const auto model = Model::load(*model_path, {.threads = 1});
  const ChatTemplate t = ChatTemplate::for_model(*model);
  CHECK(t.name() == "phi3");
  const Tokenizer& tok = model->tokenizer();
  CHECK(t.eos_text() == tok.token_text(tok.special().eos));

  const std::vector<ChatMessage> conv = {{"user", "Hello"}};
  const std::vector<TokenId> ids = t.encode(tok, conv, true);
  // One BOS at most, and the markers are single control tokens, not text.
  const TokenId bos = tok.special().bos;
  CHECK(std::count(ids.begin(), ids.end(), bos) == (tok.special().add_bos ? 1 : 0));
  const TokenId user = tok.find("<|user|>"), end = tok.find("<|end|>"), assistant = tok.find("<|assistant|>");
  REQUIRE(user != kNoToken);
  REQUIRE(end != kNoToken);
  REQUIRE(assistant != kNoToken);
  CHECK(std::count(ids.begin(), ids.end(), user) == 1);
  CHECK(std::count(ids.begin(), ids.end(), end) == 1);
  CHECK(std::count(ids.begin(), ids.end(), assistant) == 1);
  // Exactly the rendered text's tokens (parse_special, no EOS) after the optional BOS;
  // decoding does not give the text back: Phi-3's markers strip the newline after them,
  // as they do in llama.cpp.
  std::vector<TokenId> expect = tok.encode(t.apply(conv, true), /*add_special=*/false, /*parse_special=*/true);
  if (tok.special().add_bos) expect.insert(expect.begin(), bos);
  CHECK(ids == expect);
  // The end-of-turn marker is a token here, so a generator can stop on it.
  const auto stops = t.stop_tokens(tok);
  CHECK(std::find(stops.begin(), stops.end(), end) != stops.end());
}

TEST_CASE("for_model() on a model without a chat template is Unsupported") {
  const auto path = test::require_shared("models/stories260K-f32.gguf");
  if (!path) return;
  const auto model = Model::load(*path, {.threads = 1});
  try {
    (void)ChatTemplate::for_model(*model);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Unsupported);
    CHECK(std::string(e.what()).find("tokenizer.chat_template") != std::string::npos);
  }
  // With a named family the vocabulary's BOS is added once, and "<s>" is never doubled.
  const ChatTemplate t = ChatTemplate::named("llama2").adapted_to(model->tokenizer());
  const std::vector<ChatMessage> conv = {{"user", "Hi"}, {"assistant", "Yo"}, {"user", "Bye"}};
  const auto ids = t.encode(model->tokenizer(), conv, true);
  const TokenId bos = model->tokenizer().special().bos;
  REQUIRE(bos != kNoToken);
  CHECK(ids.front() == bos);
  CHECK(ids[1] != bos);
  CHECK(std::count(ids.begin(), ids.end(), bos) == 2);  // the first [INST] and the second one
}

TEST_CASE("random role sequences: rendered exactly when the family's rule allows them, else InvalidArgument") {
  // The rule of llama2/mistral/gemma: an optional leading system message, then user and
  // assistant alternating from user. The other families take any sequence.
  const auto alternates = [](const std::vector<ChatMessage>& c) {
    std::size_t first = !c.empty() && c[0].role == "system" ? 1 : 0;
    for (std::size_t i = first; i < c.size(); ++i)
      if (c[i].role != ((i - first) % 2 == 0 ? "user" : "assistant")) return false;
    return true;
  };
  const char* roles[] = {"system", "user", "assistant"};
  unsigned state = 12345;
  const auto next = [&state] { return (state = state * 1103515245u + 12345u) >> 16; };
  int valid_strict = 0, invalid_strict = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<ChatMessage> conv;
    const unsigned n = next() % 6;
    for (unsigned i = 0; i < n; ++i) {
      std::string content = "m";  // (appending, not "m" + ...: GCC 12 warns falsely on that)
      content += std::to_string(i);
      conv.push_back({roles[next() % 3], content});
    }
    const bool ok = alternates(conv);
    (ok ? valid_strict : invalid_strict)++;
    for (const auto name : ChatTemplate::known_names()) {
      CAPTURE(name);
      CAPTURE(trial);
      const ChatTemplate t = ChatTemplate::named(name);
      const bool strict = name == "llama2" || name == "mistral" || name == "gemma";
      if (strict && conv.size() == 1 && conv[0].role == "system") {
        // No user turn to fold the system text into: dropped, as the templates drop it.
        CHECK(t.apply(conv, true).find(conv[0].content) == std::string::npos);
      } else if (!strict || ok) {
        const std::string text = t.apply(conv, true);
        // Every message's text appears, in order (the system text folded in included).
        std::size_t at = 0;
        for (const auto& m : conv) {
          at = text.find(m.content, at);
          CHECK(at != std::string::npos);
          if (at == std::string::npos) break;
        }
      } else {
        try {
          (void)t.apply(conv, true);
          FAIL("expected an error");
        } catch (const Error& e) {
          CHECK(e.code() == ErrorCode::InvalidArgument);
        }
      }
    }
  }
  CHECK(valid_strict > 20);  // both branches were exercised
  CHECK(invalid_strict > 20);
}

namespace {

constexpr const char* kQwen3 =
    "{%- for message in messages %}{%- if message.role == \"assistant\" %}{%- if '</think>' in message.content %}{%- "
    "set content = message.content.split('</think>')[-1].lstrip('\\n') %}{%- endif %}{{- '<|im_start|>' + "
    "message.role + '\\n' + content }}{%- endif %}{%- endfor %}";
constexpr const char* kLlama31 =
    "{{- bos_token }}{%- if not date_string is defined %}{%- set date_string = \"26 Jul 2024\" %}{%- endif %}{{- "
    "\"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}{{- \"Cutting Knowledge Date: December 2023\\n\" }}{{- "
    "\"Today Date: \" + date_string + \"\\n\\n\" }}";
constexpr const char* kLlama32 =
    "{{- bos_token }}{%- if not date_string is defined %}{%- if strftime_now is defined %}{%- set date_string = "
    "strftime_now(\"%d %b %Y\") %}{%- else %}{%- set date_string = \"26 Jul 2024\" %}{%- endif %}{%- endif %}{{- "
    "\"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}{{- \"Cutting Knowledge Date: December 2023\\n\" }}";
constexpr const char* kPhi4Mini =
    "{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}{% endfor %}{% "
    "if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}";
constexpr const char* kGranite3 =
    "{%- for message in messages %}{{- '<|start_of_role|>' + message['role'] + '<|end_of_role|>' + "
    "message['content'] + '<|end_of_text|>\\n' }}{%- if loop.last and add_generation_prompt %}{{- "
    "'<|start_of_role|>assistant<|end_of_role|>' }}{%- endif %}{%- endfor %}";

}  // namespace

TEST_CASE("today's families: Qwen3 (thinking), Llama 3.1+ (dates), Phi-4, Phi-4-mini, Granite") {
  CHECK(ChatTemplate::detect(kQwen3).name() == "qwen3");
  CHECK(ChatTemplate::detect(kLlama31).name() == "llama3.1");
  CHECK(ChatTemplate::detect(kLlama31).date() == "26 Jul 2024");
  CHECK(ChatTemplate::detect(kPhi4Mini).name() == "phi4-mini");
  CHECK(ChatTemplate::detect(kGranite3).name() == "granite");
  // Llama 3.2 asks for today's date.
  {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%d %b %Y", &tm);
    const ChatTemplate t = ChatTemplate::detect(kLlama32);
    CHECK(t.name() == "llama3.1");
    CHECK((t.date() == buf || t.date() != "26 Jul 2024"));  // (midnight may pass between the two calls)
  }

  const std::vector<ChatMessage> history = {{"system", "You are helpful."},
                                            {"user", "Hi"},
                                            {"assistant", "<think>\nok\n</think>\n\nHello!"},
                                            {"user", "Bye"}};
  // Reasoning before the last user message is dropped.
  CHECK(ChatTemplate::named("qwen3").apply(history, true) ==
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        "Hello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
  // After it, kept; the last turn always gets a think block.
  const std::vector<ChatMessage> reply = {{"user", "Hi"}, {"assistant", "<think>\nplan\n</think>\n\nHello!"}};
  CHECK(ChatTemplate::named("qwen3").apply(reply, false) ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nplan\n</think>\n\nHello!<|im_end|>\n");
  const std::vector<ChatMessage> plain = {{"user", "Hi"}, {"assistant", "Hello!"}};
  CHECK(ChatTemplate::named("qwen3").apply(plain, false) ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>\n");

  const std::vector<ChatMessage> conv = {{"system", " Be brief. "}, {"user", "Hi"}};
  CHECK(ChatTemplate::named("llama3.1").apply(conv, true, BosText::Include) ==
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
        "Today Date: 26 Jul 2024\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n");
  CHECK(ChatTemplate::named("llama3.1").with_date("01 Jan 2030").apply({conv.begin() + 1, conv.end()}, false) ==
        "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 01 Jan "
        "2030\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
  CHECK_THROWS_AS((void)ChatTemplate::named("llama3").with_date("01 Jan 2030"), Error);

  const std::vector<ChatMessage> sc = {{"system", "S"}, {"user", "Hi"}};
  CHECK(ChatTemplate::named("phi4").apply(sc, true) ==
        "<|im_start|>system<|im_sep|>S<|im_end|><|im_start|>user<|im_sep|>Hi<|im_end|><|im_start|>assistant<|im_sep|>");
  CHECK(ChatTemplate::named("phi4-mini").apply(sc, true) == "<|system|>S<|end|><|user|>Hi<|end|><|assistant|>");
  CHECK(ChatTemplate::named("phi4-mini").apply(sc, false) == "<|system|>S<|end|><|user|>Hi<|end|><|endoftext|>");
  CHECK(ChatTemplate::named("granite").apply(sc, true) ==
        "<|start_of_role|>system<|end_of_role|>S<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Hi<|end_of_text|>"
        "\n<|start_of_role|>assistant<|end_of_role|>");
  using V = std::vector<std::string>;
  CHECK(ChatTemplate::named("qwen3").stop_strings() == V{"<|im_end|>"});
  CHECK(ChatTemplate::named("granite").stop_strings() == V{"<|end_of_text|>"});
  CHECK(ChatTemplate::named("llama3.1").stop_strings() == V{"<|eot_id|>"});
}
