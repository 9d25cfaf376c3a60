// Response body bytes as a function of (seed, stream, position): any lost, duplicated or
// reordered byte changes what the peer receives, so byte-exact verification catches it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace emitlab::sim {

std::uint8_t body_byte(std::uint64_t seed, std::uint64_t request_id, std::uint64_t pos);
void fill_body(std::uint64_t seed, std::uint64_t request_id, std::uint64_t first_pos,
               std::span<std::uint8_t> out);
std::vector<std::uint8_t> make_body(std::uint64_t seed, std::uint64_t request_id, std::size_t size);

}  // namespace emitlab::sim
