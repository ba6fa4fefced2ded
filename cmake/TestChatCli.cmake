# ctest -P script: `inkling chat` over piped input. Two turns, then /reset and the first
# message again: turn 2 must take all of turn 1's prompt from the KV cache and compute
# only the rest; after /reset nothing is reused and the prompt is turn 1's again.
set(input ${WORK}/chat-input.txt)
file(WRITE ${input} "hi\nhow are you\n/reset\nhi\n")
# EMULATOR: qemu or wine for a cross build (empty natively).
execute_process(COMMAND ${EMULATOR} ${CLI} chat -m ${MODEL} --template chatml --metrics --temp 0 -n 8
                INPUT_FILE ${input} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "inkling chat failed (${rc}):\n${out}\n${err}")
endif()

foreach(turn 1 2 3)
  if(NOT err MATCHES "\\[turn ${turn}: prompt ([0-9]+) tokens, ([0-9]+) reused from the cache, ([0-9]+) computed")
    message(FATAL_ERROR "no metrics line for turn ${turn}:\n${err}")
  endif()
  set(prompt${turn} ${CMAKE_MATCH_1})
  set(reused${turn} ${CMAKE_MATCH_2})
  set(computed${turn} ${CMAKE_MATCH_3})
endforeach()
if(err MATCHES "\\[turn 4:")
  message(FATAL_ERROR "more turns than messages:\n${err}")
endif()

if(NOT reused1 EQUAL 0)
  message(FATAL_ERROR "turn 1 reused ${reused1} tokens from an empty cache")
endif()
if(reused2 LESS prompt1)
  message(FATAL_ERROR "turn 2 reused ${reused2} tokens; turn 1's prompt alone had ${prompt1}")
endif()
math(EXPR sum "${reused2} + ${computed2}")
if(NOT sum EQUAL prompt2 OR NOT computed2 LESS prompt2)
  message(FATAL_ERROR "turn 2: ${reused2} reused + ${computed2} computed of ${prompt2}")
endif()
if(NOT reused3 EQUAL 0 OR NOT prompt3 EQUAL prompt1)
  message(FATAL_ERROR "after /reset: ${reused3} reused, prompt ${prompt3} (turn 1: ${prompt1})")
endif()
# Each user message is echoed before its reply, and /reset is not sent as a message.
string(REGEX MATCHALL "(^|\n)> [^\n]*" echoed "${out}")
list(LENGTH echoed n_echoed)
if(NOT n_echoed EQUAL 3 OR NOT err MATCHES "conversation cleared")
  message(FATAL_ERROR "expected 3 user turns and a reset:\n${out}\n${err}")
endif()
message(STATUS "turn 1: ${prompt1} tokens computed; turn 2: ${reused2} of ${prompt2} reused, ${computed2} computed")

# A long conversation in the model's 128 positions: before each reply the oldest exchanges
# are forgotten until the reply has its reserve (--reply-reserve, default a quarter of the
# context, at most -n), so every 30-token reply is whole. With no reserve the prompt only
# has to fit, and replies are cut off by the full context.
set(long_input ${WORK}/chat-long-input.txt)
file(WRITE ${long_input} "hi\nhow are you\ntell me a story\nand another\nmore\n")
function(chat_replies var)
  execute_process(COMMAND ${EMULATOR} ${CLI} chat -m ${MODEL} --template chatml --metrics --temp 0 -n 30 --ignore-eos ${ARGN}
                  INPUT_FILE ${long_input} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "inkling chat ${ARGN} failed (${rc}):\n${out}\n${err}")
  endif()
  string(REGEX MATCHALL "reply [0-9]+ tokens \\([a-z_]+\\)" replies "${err}")
  set(${var} "${replies}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()
chat_replies(reserved)
list(LENGTH reserved n_reserved)
list(REMOVE_ITEM reserved "reply 30 tokens (max_tokens)")
if(NOT n_reserved EQUAL 5 OR reserved)
  message(FATAL_ERROR "with the default reply reserve every reply should get its 30 tokens:\n${err}")
endif()
if(err MATCHES "/reset to start over")
  message(FATAL_ERROR "the old hint says /reset though old turns are dropped automatically:\n${err}")
endif()
chat_replies(unreserved --reply-reserve 0)
if(NOT unreserved MATCHES "context_full" OR NOT err MATCHES "the reply filled the context and was cut off")
  message(FATAL_ERROR "--reply-reserve 0: expected replies cut off by the full context:\n${err}")
endif()
# --context-full shift: a reply goes on past the full context (drops its oldest tokens).
file(WRITE ${long_input} "hi\nmore\n")
execute_process(COMMAND ${EMULATOR} ${CLI} chat -m ${MODEL} --template chatml --metrics --temp 0 -n 200 --ignore-eos
                        --context-full shift
                INPUT_FILE ${long_input} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
string(REGEX MATCHALL "reply 200 tokens \\(max_tokens\\)" shifted "${err}")
list(LENGTH shifted n_shifted)
if(NOT rc EQUAL 0 OR NOT n_shifted EQUAL 2)
  message(FATAL_ERROR "--context-full shift: expected two 200-token replies in 128 positions (${rc}):\n${err}")
endif()
message(STATUS "reply reserve: 5 whole replies; without it: ${unreserved}; shift: 200-token replies")
