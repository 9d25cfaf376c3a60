// Byte sizes as users write them: plain bytes, or a K/KiB/M/MiB suffix (powers of 1024).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace emitlab {

std::optional<std::size_t> parse_byte_size(std::string_view text);
// The shortest exact spelling: "64K", "1M", or plain bytes.
std::string byte_size_text(std::size_t bytes);

}  // namespace emitlab
