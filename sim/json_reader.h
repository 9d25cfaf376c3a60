// Strict, bounded JSON for every file and token a user hands emitlab (scenario files, the
// scenario inside a replay token, scope files): the text is at most `max_bytes`, values nest at
// most `max_depth` deep, an object never repeats a key, and every number is representable.
// Reading never throws, never recurses per nesting level and never reads a file past its limit
// (so --scenario /dev/zero stops), whatever the input; every failure is one line.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace emitlab::sim {

struct JsonLimits {
  std::size_t max_bytes;
  std::size_t max_depth;  // a bare number is depth 0, {"a": [1]} is depth 2
};

struct JsonRead {
  std::optional<nlohmann::json> json;
  std::string error;  // one line, without the name of what was read
};

JsonRead read_json(std::string_view text, const JsonLimits& limits);

struct FileRead {
  std::optional<std::string> text;
  std::string error;  // "cannot be read: ..." or "is larger than N bytes"
};
// Reads at most limits.max_bytes + 1 bytes of `path` (a larger file is refused without reading
// the rest).
FileRead read_text_file(const std::string& path, std::size_t max_bytes);

// A value as an error line quotes it: compact, control characters escaped, cut.
std::string echo_json(const nlohmann::json& value);

}  // namespace emitlab::sim
