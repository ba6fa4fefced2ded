# ctest -P script: without -m, `inkling run` uses the built-in stories260K and says so in
# one stderr line; greedy, it writes the model's known story. `inkling chat` without -m and
# without --template refuses (the built-in model has no chat template).
execute_process(COMMAND ${CLI} run -p "Once upon a time" -n 12 --temp 0
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "inkling run without -m failed (${rc}):\n${out}\n${err}")
endif()
string(REGEX MATCHALL "built-in stories260K" said "${err}")
list(LENGTH said n_said)
if(NOT n_said EQUAL 1)
  message(FATAL_ERROR "expected one stderr line naming the built-in model:\n${err}")
endif()
if(NOT out MATCHES "^Once upon a time, there was a little girl named Lily")
  message(FATAL_ERROR "the built-in model did not write its greedy story:\n${out}")
endif()
execute_process(COMMAND ${CLI} chat -n 4 INPUT_FILE /dev/null
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0 OR NOT err MATCHES "without a chat template")
  message(FATAL_ERROR "inkling chat without -m or --template should refuse (${rc}):\n${err}")
endif()
# `inkling serve` without -m comes up with the built-in model (stopped by SIGTERM after 3 s).
execute_process(COMMAND timeout 3 ${CLI} serve --port 0
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT err MATCHES "using the built-in stories260K" OR NOT err MATCHES "serving on http://127.0.0.1:[0-9]+/")
  message(FATAL_ERROR "inkling serve without -m did not come up with the built-in model:\n${err}")
endif()
