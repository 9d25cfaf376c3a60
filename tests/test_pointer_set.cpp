// PointerSet (sim/pointer_set.h) against std::set under long random sequences of inserts and
// erases, so a probe run broken by a deletion (an element no longer reachable from its home
// slot) shows up as a membership the reference disagrees with.
#define BOOST_TEST_MODULE pointer_set
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <map>
#include <optional>
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

// Marks move with their members: the backward shift of an erase and the rehash of a growth must
// carry them, or a quarantined block would read as live.
BOOST_AUTO_TEST_CASE(marks_match_a_reference_map_under_random_inserts_marks_and_erases) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    emitlab::sim::Xoshiro256 rng(seed);
    PointerSet set;
    std::map<void*, bool> reference;
    const std::uint64_t universe = 600 * seed;
    for (int step = 0; step < 200000; ++step) {
      void* p = address(rng.next() % universe);
      const std::uint64_t op = rng.next() % 100;
      if (op < 45) {
        BOOST_TEST_REQUIRE(set.insert(p) == reference.emplace(p, false).second);
      } else if (op < 70) {
        const auto it = reference.find(p);
        BOOST_TEST_REQUIRE(set.mark(p) == (it != reference.end()));
        if (it != reference.end()) it->second = true;
      } else {
        BOOST_TEST_REQUIRE(set.erase(p) == (reference.erase(p) == 1));
      }
    }
    for (std::uint64_t slot = 0; slot < universe; ++slot) {
      void* p = address(slot);
      const auto it = reference.find(p);
      const std::optional<bool> want =
          it == reference.end() ? std::nullopt : std::optional<bool>(it->second);
      BOOST_TEST_REQUIRE((set.marked(p) == want));
      BOOST_TEST_REQUIRE(set.contains(p) == want.has_value());
    }
    std::vector<void*> listed;  // members without their mark bit
    set.for_each([&listed](void* p) { listed.push_back(p); });
    std::set<void*> want;
    for (const auto& [p, marked] : reference) want.insert(p);
    BOOST_TEST(std::set<void*>(listed.begin(), listed.end()) == want);
  }
}

BOOST_AUTO_TEST_CASE(an_odd_address_is_never_a_member) {
  PointerSet set;
  void* odd = static_cast<char*>(address(3)) + 1;
  BOOST_TEST(!set.insert(odd));
  BOOST_TEST(set.insert(address(3)));
  BOOST_TEST(set.mark(address(3)));
  BOOST_TEST(!set.contains(odd));  // the marked slot's bits are not an address
  BOOST_TEST(!set.marked(odd).has_value());
}
