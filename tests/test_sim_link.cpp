// The simulated link as the server's Transport (sim/sim_link.h) on its own: the one write in
// flight, completions taken by the driver (also from inside the submit), the buffer's room
// rule, and what it counts and hashes.
#define BOOST_TEST_MODULE sim_link
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <span>
#include <vector>

#include "sim/sim_link.h"

namespace sim = emitlab::sim;

namespace {

const std::vector<std::uint8_t> kFirst = {1, 2, 3, 4};
const std::vector<std::uint8_t> kSecond = {5, 6};

// Completes every write from inside its submit, as the world's synchronous completions do.
struct SyncDriver final : sim::SimLink::SubmitListener {
  sim::SimLink* link = nullptr;
  std::vector<std::size_t> completed;
  void on_submit(std::span<const std::uint8_t> ciphertext) override {
    BOOST_TEST(link->inflight().data() == ciphertext.data());
    completed.push_back(link->take().size());
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_write_stays_in_flight_until_the_driver_takes_it) {
  sim::SimLink link;
  link.submit(kFirst);
  BOOST_TEST(link.inflight().data() == kFirst.data());
  BOOST_TEST(link.inflight().size() == 4U);
  const auto taken = link.take();
  BOOST_TEST(taken.data() == kFirst.data());  // the server's span itself, not a copy
  BOOST_TEST(link.inflight().empty());
  BOOST_TEST(!link.overlapped());
  link.submit(kSecond);
  BOOST_TEST(link.submitted_bytes() == 6U);
  BOOST_TEST(!link.overlapped());
}

BOOST_AUTO_TEST_CASE(a_submit_while_a_write_is_in_flight_is_reported) {
  sim::SimLink link;
  link.submit(kFirst);
  link.submit(kSecond);
  BOOST_TEST(link.overlapped());
}

BOOST_AUTO_TEST_CASE(a_listener_can_complete_the_write_inside_its_submit) {
  SyncDriver driver;
  sim::SimLink link({.listener = &driver});
  driver.link = &link;
  link.submit(kFirst);
  link.submit(kSecond);
  BOOST_TEST((driver.completed == std::vector<std::size_t>{4, 2}));
  BOOST_TEST(link.inflight().empty());
  BOOST_TEST(!link.overlapped());
}

BOOST_AUTO_TEST_CASE(the_buffer_takes_a_write_that_fits_and_an_empty_link_takes_any) {
  sim::SimLink link({.buffer = 10});
  BOOST_TEST(link.has_room(1000));  // empty: a write larger than the buffer cannot wedge a run
  link.to_peer().push(0, kFirst);
  BOOST_TEST(link.has_room(6));
  BOOST_TEST(!link.has_room(7));
  link.to_peer().take(0, 4);
  BOOST_TEST(link.has_room(1000));
}

BOOST_AUTO_TEST_CASE(taking_a_blocked_write_unblocks_it_and_drop_empties_the_link) {
  sim::SimLink link({.buffer = 1});
  link.to_peer().push(0, kFirst);
  link.to_server().push(0, kSecond);
  link.submit(kSecond);
  link.set_blocked();
  BOOST_TEST(link.blocked());
  link.drop();
  BOOST_TEST(link.inflight().empty());
  BOOST_TEST(link.to_peer().empty());
  BOOST_TEST(link.to_server().empty());
  link.submit(kFirst);
  link.take();
  BOOST_TEST(!link.blocked());
}

BOOST_AUTO_TEST_CASE(the_hash_covers_every_submitted_byte_in_order) {
  sim::SimLink hashed({.hash = true});
  BOOST_TEST(!sim::SimLink().digest().has_value());
  hashed.submit(kFirst);
  hashed.take();
  hashed.submit(kSecond);
  sim::Sha256 whole;
  whole.update(std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6});
  BOOST_TEST((*hashed.digest() == whole.digest()));
}
