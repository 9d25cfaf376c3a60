# Run at every build (cmake -P): writes OUT, a header defining EMITLAB_COMMIT, from the source
# tree's git state, and rewrites it only when that changes (so nothing recompiles otherwise).
# Replay tokens name this commit; captured at configure time instead, a build directory not
# reconfigured after a commit named the old one. "-dirty" marks tracked files changed since it.
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY "${SRC}" RESULT_VARIABLE rc
  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT rc EQUAL 0 OR NOT commit)
  set(commit "unknown")
else()
  execute_process(COMMAND git diff --quiet HEAD --
    WORKING_DIRECTORY "${SRC}" RESULT_VARIABLE dirty OUTPUT_QUIET ERROR_QUIET)
  if(NOT dirty EQUAL 0)
    string(APPEND commit "-dirty")
  endif()
endif()
set(content "#pragma once\n#define EMITLAB_COMMIT \"${commit}\"\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL content)
  file(WRITE "${OUT}" "${content}")
endif()
