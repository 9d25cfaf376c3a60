#include "core/byte_size.h"

#include <charconv>
#include <limits>

namespace emitlab {

std::optional<std::size_t> parse_byte_size(std::string_view text) {
  std::size_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  const std::string_view suffix(ptr, static_cast<std::size_t>(end - ptr));
  std::size_t unit = 1;
  if (suffix == "K" || suffix == "KiB") {
    unit = 1024;
  } else if (suffix == "M" || suffix == "MiB") {
    unit = 1024 * 1024;
  } else if (!suffix.empty()) {
    return std::nullopt;
  }
  if (value > std::numeric_limits<std::size_t>::max() / unit) return std::nullopt;
  return value * unit;
}

std::string byte_size_text(std::size_t bytes) {
  if (bytes != 0 && bytes % (1024 * 1024) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes != 0 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + "K";
  return std::to_string(bytes);
}

}  // namespace emitlab
