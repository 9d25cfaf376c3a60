// Response body bytes as a function of (seed, stream, position): any lost, duplicated or
// reordered byte changes what the peer receives, so byte-exact verification catches it. The
// simulator's peers and the real-socket server (net/) send the same bytes, so a real client
// can check a body with the same function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace emitlab {

std::uint8_t body_byte(std::uint64_t seed, std::uint64_t request_id, std::uint64_t pos);
void fill_body(std::uint64_t seed, std::uint64_t request_id, std::uint64_t first_pos,
               std::span<std::uint8_t> out);
std::vector<std::uint8_t> make_body(std::uint64_t seed, std::uint64_t request_id, std::size_t size);

}  // namespace emitlab
