// One direction of the simulated link: order, arrival times and partial reads.
#define BOOST_TEST_MODULE link
#include <boost/test/unit_test.hpp>

#include <vector>

#include "sim/link.h"

namespace sim = emitlab::sim;

namespace {
std::vector<std::uint8_t> bytes(std::initializer_list<std::uint8_t> b) {
  return b;
}
}  // namespace

BOOST_AUTO_TEST_CASE(arrivals_keep_their_order_whatever_the_latency) {
  sim::ByteQueue q;
  BOOST_TEST(q.push(100, bytes({1, 2})) == 100U);
  BOOST_TEST(q.push(50, bytes({3})) == 100U);  // cannot overtake
  BOOST_TEST(q.push(200, bytes({4})) == 200U);
  BOOST_TEST(q.size() == 4U);
  BOOST_TEST(q.arrived(99) == 0U);
  BOOST_TEST(q.arrived(100) == 3U);
  BOOST_TEST(q.arrived(1000) == 4U);
  BOOST_TEST(*q.next_arrival() == 100U);
}

BOOST_AUTO_TEST_CASE(reads_take_arrived_bytes_in_chunks) {
  sim::ByteQueue q;
  q.push(10, bytes({1, 2, 3}));
  q.push(10, bytes({4, 5}));
  q.push(20, bytes({6}));
  BOOST_TEST((q.take(10, 2) == bytes({1, 2})));
  BOOST_TEST((q.take(10, 10) == bytes({3, 4, 5})));
  BOOST_TEST(q.take(10, 10).empty());  // 6 has not arrived
  BOOST_TEST((q.take(20, 10) == bytes({6})));
  BOOST_TEST(q.empty());
  BOOST_TEST(!q.next_arrival().has_value());
}

BOOST_AUTO_TEST_CASE(clear_drops_everything) {
  sim::ByteQueue q;
  q.push(1, bytes({1}));
  q.clear();
  BOOST_TEST(q.empty());
  BOOST_TEST(q.take(5, 5).empty());
}
