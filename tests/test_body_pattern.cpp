// fill_body (core/body_pattern.h) writes, at every position, the byte body_byte defines there:
// from any first position (word-aligned or not), for any length (empty, inside one word, across
// words), and near the end of the position range, where pos / 8 is the last word.
#define BOOST_TEST_MODULE body_pattern
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/body_pattern.h"

namespace {

// Positions where fill_body and body_byte disagree, for the bytes [first, first + length).
std::size_t disagreements(std::uint64_t seed, std::uint64_t request_id, std::uint64_t first,
                          std::size_t length) {
  std::vector<std::uint8_t> out(length, 0);
  emitlab::fill_body(seed, request_id, first, out);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < length; ++i) {
    if (out[i] != emitlab::body_byte(seed, request_id, first + i)) ++wrong;
  }
  return wrong;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_offset_and_length_matches_body_byte) {
  for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{86707}}) {
    for (const std::uint64_t request :
         {std::uint64_t{0}, std::uint64_t{7}, std::uint64_t{1} << 40}) {
      for (std::uint64_t first = 0; first < 24; ++first) {
        for (std::size_t length = 0; length <= 40; ++length) {
          BOOST_TEST(disagreements(seed, request, first, length) == 0u,
                     "seed " << seed << " request " << request << " first " << first << " length "
                             << length);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_last_positions_match_body_byte) {
  const std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
  BOOST_TEST(disagreements(3, 5, last - 20, 21) == 0u);  // up to and including the last byte
}

BOOST_AUTO_TEST_CASE(bodies_differ_by_seed_request_and_position) {
  // The pattern's purpose: a byte from another stream or place reads differently.
  std::vector<std::uint8_t> a(64), b(64), c(64), d(64);
  emitlab::fill_body(1, 2, 0, a);
  emitlab::fill_body(2, 2, 0, b);
  emitlab::fill_body(1, 3, 0, c);
  emitlab::fill_body(1, 2, 1, d);
  BOOST_TEST((a != b));
  BOOST_TEST((a != c));
  BOOST_TEST((a != d));
}
