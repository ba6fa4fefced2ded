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
