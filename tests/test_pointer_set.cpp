// PointerSet (sim/pointer_set.h) against std::set under long random sequences of inserts and
// erases, so a probe run broken by a deletion (an element no longer reachable from its home
// slot) shows up as a membership the reference disagrees with.
#define BOOST_TEST_MODULE pointer_set
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <set>
#include <vector>

#include "sim/pointer_set.h"
#include "sim/prng.h"

namespace {

using emitlab::sim::PointerSet;

void* address(std::uint64_t slot) {
  // 16-byte aligned like malloc's blocks; a small range so probe runs collide and wrap.
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(0x10000 + slot * 16));
}

}  // namespace

BOOST_AUTO_TEST_CASE(matches_a_reference_set_under_random_inserts_and_erases) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    emitlab::sim::Xoshiro256 rng(seed);
    PointerSet set;
    std::set<void*> reference;
    const std::uint64_t universe = 600 * seed;  // up to well past the first growth
    for (int step = 0; step < 200000; ++step) {
      void* p = address(rng.next() % universe);
      const bool insert = rng.next() % 100 < (step < 100000 ? 60 : 40);
      if (insert) {
        BOOST_TEST_REQUIRE(set.insert(p) == reference.insert(p).second);
      } else {
        BOOST_TEST_REQUIRE(set.erase(p) == (reference.erase(p) == 1));
      }
      BOOST_TEST_REQUIRE(set.size() == reference.size());
    }
    for (std::uint64_t slot = 0; slot < universe; ++slot) {
      BOOST_TEST_REQUIRE(set.contains(address(slot)) == (reference.count(address(slot)) == 1));
    }
    std::vector<void*> listed;
    set.for_each([&listed](void* p) { listed.push_back(p); });
    BOOST_TEST(std::set<void*>(listed.begin(), listed.end()) == reference);
    BOOST_TEST(listed.size() == reference.size());
  }
}

BOOST_AUTO_TEST_CASE(null_is_never_a_member) {
  PointerSet set;
  BOOST_TEST(!set.insert(nullptr));
  BOOST_TEST(!set.contains(nullptr));
  BOOST_TEST(!set.erase(nullptr));
  BOOST_TEST(set.insert(address(1)));
  BOOST_TEST(!set.contains(nullptr));
  set.clear();
  BOOST_TEST(set.size() == 0u);
  BOOST_TEST(!set.contains(address(1)));
}
