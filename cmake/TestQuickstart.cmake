# ctest -P script: the README's first command from a clean clone of the committed tree,
# with no shared test data anywhere (INKLING_SHARED points at nothing and the clone has no
# ../shared beside it): it must build the program and write a story with the built-in model.
# cmake -DSRC=repo -DWORK=dir -P TestQuickstart.cmake
if(NOT EXISTS ${SRC}/.git)
  message(FATAL_ERROR "${SRC} is not a git checkout: the clean-clone test needs one")
endif()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND git clone --quiet --no-hardlinks ${SRC} ${WORK}/inkling RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "git clone ${SRC} failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env INKLING_SHARED=${WORK}/no-shared-data-here
                        bash scripts/quickstart.sh
                WORKING_DIRECTORY ${WORK}/inkling
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "scripts/quickstart.sh failed in a clean clone (${rc}):\n${out}\n${err}")
endif()
if(NOT err MATCHES "using the built-in stories260K")
  message(FATAL_ERROR "the quickstart did not say it uses the built-in model:\n${err}")
endif()
# A story, and a clean end: stopped by the token limit or the model's end of text,
# never by a full context.
if(NOT out MATCHES "(^|\n)Once upon a time[,.]? [A-Za-z]")
  message(FATAL_ERROR "no story in the quickstart's output:\n${out}")
endif()
if(NOT err MATCHES "\\[(max_tokens|end_of_sequence)\\]" OR err MATCHES "context_full")
  message(FATAL_ERROR "the quickstart did not end cleanly:\n${err}")
endif()
message(STATUS "quickstart from a clean clone:\n${out}")
file(REMOVE_RECURSE ${WORK})
