#include "core/body_pattern.h"

namespace emitlab {
namespace {

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t word(std::uint64_t seed, std::uint64_t request_id, std::uint64_t index) {
  return mix(mix(seed ^ (request_id * 0xd6e8feb86659fd93ULL)) ^ index);
}

}  // namespace

std::uint8_t body_byte(std::uint64_t seed, std::uint64_t request_id, std::uint64_t pos) {
  return static_cast<std::uint8_t>(word(seed, request_id, pos / 8) >> (8 * (pos % 8)));
}

void fill_body(std::uint64_t seed, std::uint64_t request_id, std::uint64_t first_pos,
               std::span<std::uint8_t> out) {
  std::uint64_t pos = first_pos;
  for (auto& b : out) {
    b = body_byte(seed, request_id, pos++);
  }
}

std::vector<std::uint8_t> make_body(std::uint64_t seed, std::uint64_t request_id,
                                    std::size_t size) {
  std::vector<std::uint8_t> body(size);
  fill_body(seed, request_id, 0, body);
  return body;
}

}  // namespace emitlab
