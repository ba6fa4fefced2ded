# ctest -P script: `inkling bench --parallel N` reports TPOT as each sequence's time per
# token (one batched step), i.e. N * 1000 / aggregate tokens/s, not 1000 / aggregate.
execute_process(COMMAND ${CLI} bench -m ${MODEL} -p 0 -n 16 --parallel 4 -r 2 --no-probe --json
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "inkling bench failed (${rc}):\n${out}\n${err}")
endif()
if(NOT out MATCHES "\"test\": \"tg16x4\"[^\n]*\"tps_mean\": ([0-9]+)\\.([0-9][0-9][0-9])[^\n]*\"tpot_ms\": ([0-9]+)\\.([0-9][0-9][0-9][0-9])")
  message(FATAL_ERROR "no tg16x4 line with tps_mean and tpot_ms:\n${out}")
endif()
# Fixed-point: tps in thousandths, tpot in ten-thousandths of a ms.
math(EXPR tps_milli "${CMAKE_MATCH_1} * 1000 + 1${CMAKE_MATCH_2} - 1000")
math(EXPR tpot_tenk "${CMAKE_MATCH_3} * 10000 + 1${CMAKE_MATCH_4} - 10000")
math(EXPR product "${tps_milli} * ${tpot_tenk} / 10000000")  # = tps * tpot_ms, expect 4000
if(product LESS 3900 OR product GREATER 4100)
  message(FATAL_ERROR "tg16x4: tps * tpot_ms = ${product}, expected 4 sequences * 1000:\n${out}")
endif()
message(STATUS "bench --parallel 4: tps * tpot_ms = ${product}")

# -d N: each pp/tg run starts after N cached tokens (as llama-bench's -d); the rows are
# named "ppP @ dN" and the cache then holds N + P (or N + n) positions.
execute_process(COMMAND ${CLI} bench -m ${MODEL} -p 8 -n 4 -d 0,40 -r 1 --no-probe --json
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "inkling bench -d failed (${rc}):\n${out}\n${err}")
endif()
foreach(row "\"pp8\"[^\n]*\"cache_length\": 8," "\"tg4\"[^\n]*\"cache_length\": 4,"
            "\"pp8 @ d40\"[^\n]*\"cache_length\": 48," "\"tg4 @ d40\"[^\n]*\"cache_length\": 44,")
  if(NOT out MATCHES "${row}")
    message(FATAL_ERROR "bench -d 0,40: no row matching ${row}:\n${out}")
  endif()
endforeach()
# -d applies to pp/tg rows only: with --parallel it is refused, not ignored.
execute_process(COMMAND ${CLI} bench -m ${MODEL} -p 8 -n 4 -d 40 --parallel 2 -r 1 --no-probe
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0 OR NOT err MATCHES "cannot combine with --parallel")
  message(FATAL_ERROR "bench -d with --parallel was not refused (${rc}):\n${out}\n${err}")
endif()
message(STATUS "bench -d: rows after 40 cached tokens")

# --kv-type: the cache is built at that type (llama-bench compares at F16 by default);
# the JSON names it and the cache's memory shrinks with it.
set(kv_bytes_f32 0)
foreach(kv f32 f16)
  execute_process(COMMAND ${CLI} bench -m ${MODEL} -p 8 -n 0 -r 1 --no-probe --json --kv-type ${kv}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  string(TOUPPER ${kv} kv_name)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "\"kv_type\": \"${kv_name}\", \"kv_bytes\": ([0-9]+)")
    message(FATAL_ERROR "bench --kv-type ${kv}: no row naming ${kv_name} (${rc}):\n${out}\n${err}")
  endif()
  set(kv_bytes_${kv} ${CMAKE_MATCH_1})
endforeach()
if(NOT kv_bytes_f16 LESS kv_bytes_f32)
  message(FATAL_ERROR "bench --kv-type: cache bytes f32 ${kv_bytes_f32}, f16 ${kv_bytes_f16}")
endif()
# q8_0 reaches the cache too: this model's head size (8) cannot hold Q8_0 blocks of 32.
execute_process(COMMAND ${CLI} bench -m ${MODEL} -p 8 -n 0 -r 1 --no-probe --kv-type q8_0
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0 OR NOT err MATCHES "Q8_0 cache needs a head size that is a multiple of 32")
  message(FATAL_ERROR "bench --kv-type q8_0 on a head size of 8 was not refused by the cache (${rc}):\n${out}\n${err}")
endif()
execute_process(COMMAND ${CLI} bench -m ${MODEL} -p 8 -n 0 -r 1 --no-probe --kv-type f8
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0 OR NOT err MATCHES "--kv-type: expected f32, f16 or q8_0")
  message(FATAL_ERROR "bench --kv-type f8 was not refused (${rc}):\n${out}\n${err}")
endif()
message(STATUS "bench --kv-type: cache bytes f32 ${kv_bytes_f32}, f16 ${kv_bytes_f16}")
