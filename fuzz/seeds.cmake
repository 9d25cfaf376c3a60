# The seed recorder (fuzz/record_seeds.cpp), built by the ordinary presets: it runs the world
# to record tokens and the live fixture to record the client's TLS records.
add_executable(emitlab_fuzz_seeds ${CMAKE_SOURCE_DIR}/fuzz/record_seeds.cpp
               ${CMAKE_SOURCE_DIR}/fuzz/live_server.cpp)
target_link_libraries(emitlab_fuzz_seeds PRIVATE emitlab_sim)
# The recorder works and the fixture answers every recorded request (under ASan too).
add_test(NAME fuzz_seeds COMMAND bash ${CMAKE_SOURCE_DIR}/fuzz/make_corpus.sh
         $<TARGET_FILE:emitlab_fuzz_seeds> ${CMAKE_BINARY_DIR}/fuzz-corpus)
set_tests_properties(fuzz_seeds PROPERTIES LABELS "unit")
