#include "core/body_pattern.h"

#include <bit>
#include <cstring>

namespace emitlab {
namespace {

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Byte `pos` of a body is byte pos % 8 (least significant first) of word pos / 8.
constexpr std::uint64_t kWordBytes = 8;

std::uint64_t stream_key(std::uint64_t seed, std::uint64_t request_id) {
  return mix(seed ^ (request_id * 0xd6e8feb86659fd93ULL));
}

std::uint64_t word(std::uint64_t key, std::uint64_t index) {
  return mix(key ^ index);
}

std::uint8_t byte_of(std::uint64_t word, std::uint64_t pos) {
  return static_cast<std::uint8_t>(word >> (8 * (pos % kWordBytes)));
}

}  // namespace

std::uint8_t body_byte(std::uint64_t seed, std::uint64_t request_id, std::uint64_t pos) {
  return byte_of(word(stream_key(seed, request_id), pos / kWordBytes), pos);
}

// The same bytes as body_byte at each position, with one mix per word instead of two per byte:
// bodies were a quarter of the property suite's instructions.
void fill_body(std::uint64_t seed, std::uint64_t request_id, std::uint64_t first_pos,
               std::span<std::uint8_t> out) {
  const std::uint64_t key = stream_key(seed, request_id);
  std::uint64_t pos = first_pos;
  std::size_t i = 0;
  while (i < out.size()) {
    const std::uint64_t w = word(key, pos / kWordBytes);
    if constexpr (std::endian::native == std::endian::little) {
      // A whole word: its bytes in memory order are bytes 0..7 of the pattern.
      if (pos % kWordBytes == 0 && out.size() - i >= kWordBytes) {
        std::memcpy(out.data() + i, &w, kWordBytes);
        i += kWordBytes;
        pos += kWordBytes;
        continue;
      }
    }
    do {
      out[i++] = byte_of(w, pos++);
    } while (i < out.size() && pos % kWordBytes != 0);
  }
}

std::vector<std::uint8_t> make_body(std::uint64_t seed, std::uint64_t request_id,
                                    std::size_t size) {
  std::vector<std::uint8_t> body(size);
  fill_body(seed, request_id, 0, body);
  return body;
}

}  // namespace emitlab
