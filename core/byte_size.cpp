#include "core/byte_size.h"

#include <charconv>
#include <limits>

namespace emitlab {
namespace {

// The longest prefix of digits; nullopt when it is empty, has a leading zero or overflows.
std::optional<std::uint64_t> leading_decimal(std::string_view text, std::size_t& used) {
  used = 0;
  while (used < text.size() && text[used] >= '0' && text[used] <= '9') ++used;
  if (used == 0 || (used > 1 && text[0] == '0')) return std::nullopt;
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + used, value);
  if (ec != std::errc() || ptr != text.data() + used) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  std::size_t used = 0;
  const auto value = leading_decimal(text, used);
  if (!value || used != text.size()) return std::nullopt;
  return value;
}

std::optional<std::size_t> parse_byte_size(std::string_view text) {
  static_assert(sizeof(std::size_t) == sizeof(std::uint64_t));
  std::size_t used = 0;
  const auto value = leading_decimal(text, used);
  if (!value) return std::nullopt;
  const std::string_view suffix = text.substr(used);
  std::size_t unit = 1;
  if (suffix == "K" || suffix == "KiB") {
    unit = 1024;
  } else if (suffix == "M" || suffix == "MiB") {
    unit = 1024 * 1024;
  } else if (!suffix.empty()) {
    return std::nullopt;
  }
  if (*value > std::numeric_limits<std::size_t>::max() / unit) return std::nullopt;
  return *value * unit;
}

std::string byte_size_text(std::size_t bytes) {
  if (bytes != 0 && bytes % (1024 * 1024) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes != 0 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + "K";
  return std::to_string(bytes);
}

}  // namespace emitlab
