// Numbers as users write them, on the command line and in scenario files alike: whole decimal
// numbers (digits only: no sign, no space, no leading zero, so 010 and 0x10 are refused rather
// than read as octal or hex) and byte sizes (such a number, optionally with a K/KiB/M/MiB
// suffix, powers of 1024). Anything else, and anything above 2^64-1, is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace emitlab {

// The rule above in words, for error messages.
inline constexpr std::string_view kDecimalRule =
    "a whole decimal number (digits only, no sign, no leading zero)";

std::optional<std::uint64_t> parse_decimal(std::string_view text);
std::optional<std::size_t> parse_byte_size(std::string_view text);
// The shortest exact spelling: "64K", "1M", or plain bytes.
std::string byte_size_text(std::size_t bytes);

}  // namespace emitlab
