// libFuzzer harness (c): the scenario, scope and replay-token readers on the same input. Each
// must answer with a value or one error line: an exception, abort or sanitizer report is a
// finding (the readers' size and depth limits are in sim/json_reader.h).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sim/replay.h"
#include "sim/scenario.h"
#include "sim/scope.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto scenario = emitlab::sim::parse_scenario(text);
  if (!scenario.scenario && scenario.error.empty()) __builtin_trap();  // an error says why
  if (scenario.scenario) (void)emitlab::sim::canonical_json(*scenario.scenario);
  (void)emitlab::sim::parse_scope(text, "fuzz input");
  (void)emitlab::sim::decode(text);
  return 0;
}
