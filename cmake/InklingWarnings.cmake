# Warnings on for our own targets only (not for dependencies' headers).
function(inkling_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unknown-pragmas)
endfunction()
