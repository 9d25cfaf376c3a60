// The peer's response verifier on its own: the body checked byte for byte as it arrives, and the
// one outcome rule (classify) for a stream that closed, was given up, or lost its connection.
#define BOOST_TEST_MODULE response_verifier
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/response_verifier.h"

namespace sim = emitlab::sim;
using sim::StreamEnd;
using sim::StreamOutcome;

namespace {

sim::ExpectedResponse expected() {
  sim::ExpectedResponse e;
  e.status = 200;
  e.headers = {{"content-type", "text/plain"}, {"x-emitlab-request", "7"}};
  e.body = {1, 2, 3, 4, 5, 6, 7, 8};
  e.trailers = {{"x-emitlab-trailer", "7"}};
  return e;
}

// What arrived: the status, the first `headers` headers, the first `body` body bytes (through
// the verifier, in chunks of 3), the trailers when `trailers`, END_STREAM when `ended`.
struct Arrival {
  sim::StreamResult result;
  sim::ResponseVerifier verifier{expected()};
};

Arrival arrive(std::size_t headers, std::size_t body, bool trailers, bool ended,
               std::vector<std::uint8_t> bytes = expected().body) {
  Arrival a;
  const auto want = expected();
  a.result.status = want.status;
  a.result.headers.assign(want.headers.begin(), want.headers.begin() + headers);
  a.result.headers_complete = headers == want.headers.size();
  for (std::size_t at = 0; at < body; at += 3) {
    const std::size_t n = std::min<std::size_t>(3, body - at);
    a.verifier.on_body(at, std::span(bytes).subspan(at, n));
    a.result.body_bytes += n;
  }
  if (trailers) a.result.trailers = want.trailers;
  a.result.end_stream = ended;
  return a;
}

StreamOutcome outcome(Arrival a, StreamEnd end) {
  sim::classify(a.result, a.verifier, end);
  BOOST_TEST((a.result.verified == (a.result.outcome == StreamOutcome::Verified)));
  BOOST_TEST(a.result.mismatch.empty() == (a.result.outcome != StreamOutcome::Failed));
  return a.result.outcome;
}

std::string mismatch(Arrival a, StreamEnd end) {
  sim::classify(a.result, a.verifier, end);
  return a.result.mismatch;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_whole_response_that_closed_is_verified) {
  BOOST_TEST((outcome(arrive(2, 8, true, true), StreamEnd::Closed) == StreamOutcome::Verified));
}

BOOST_AUTO_TEST_CASE(a_closed_stream_must_be_complete) {
  BOOST_TEST((outcome(arrive(2, 7, true, true), StreamEnd::Closed) == StreamOutcome::Failed));
  BOOST_TEST(mismatch(arrive(2, 7, true, true), StreamEnd::Closed) ==
             "body length: got 7, expected 8");
  BOOST_TEST((outcome(arrive(2, 8, false, true), StreamEnd::Closed) == StreamOutcome::Failed));
  BOOST_TEST((outcome(arrive(1, 8, true, true), StreamEnd::Closed) == StreamOutcome::Failed));
  BOOST_TEST(mismatch(arrive(2, 8, true, false), StreamEnd::Closed) ==
             "stream closed without END_STREAM");
  Arrival reset = arrive(2, 8, true, true);
  reset.result.reset = true;
  reset.result.error_code = 8;  // CANCEL
  BOOST_TEST(mismatch(reset, StreamEnd::Closed).starts_with("stream reset by server: "));
}

BOOST_AUTO_TEST_CASE(a_wrong_body_byte_fails_whichever_way_the_stream_ends) {
  std::vector<std::uint8_t> bad = expected().body;
  bad[4] = 0xee;
  for (const StreamEnd end : {StreamEnd::Closed, StreamEnd::GivenUp}) {
    BOOST_TEST(mismatch(arrive(2, 8, true, true, bad), end) ==
               "body byte at offset 4: got 0xee, expected 0x05");
  }
  // Given up before the wrong byte arrived: what arrived was right.
  BOOST_TEST(
      (outcome(arrive(2, 3, false, false, bad), StreamEnd::GivenUp) == StreamOutcome::Cancelled));
}

BOOST_AUTO_TEST_CASE(a_given_up_stream_is_cancelled_when_what_arrived_is_a_prefix) {
  BOOST_TEST((outcome(arrive(2, 5, false, false), StreamEnd::GivenUp) == StreamOutcome::Cancelled));
  BOOST_TEST((outcome(arrive(1, 0, false, false), StreamEnd::GivenUp) == StreamOutcome::Cancelled));
  // Nothing arrived at all (no status yet).
  Arrival nothing;
  BOOST_TEST((outcome(nothing, StreamEnd::GivenUp) == StreamOutcome::Cancelled));
  // Still not a success: a cancelled stream is never verified.
  Arrival whole = arrive(2, 8, true, true);
  sim::classify(whole.result, whole.verifier, StreamEnd::GivenUp);
  BOOST_TEST(!whole.result.verified);
}

BOOST_AUTO_TEST_CASE(a_given_up_stream_still_fails_on_what_contradicts_the_expectation) {
  Arrival status = arrive(2, 5, false, false);
  status.result.status = 404;
  BOOST_TEST(mismatch(status, StreamEnd::GivenUp) == "status: got 404, expected 200");
  Arrival extra = arrive(2, 8, false, false);
  extra.result.body_bytes = 9;  // a byte beyond the expected body
  BOOST_TEST(mismatch(extra, StreamEnd::GivenUp) == "body length: got 9, expected 8");
  // A whole header block that lacks a header is wrong even when given up.
  Arrival short_block = arrive(1, 0, false, false);
  short_block.result.headers_complete = true;
  BOOST_TEST((outcome(short_block, StreamEnd::GivenUp) == StreamOutcome::Failed));
}

BOOST_AUTO_TEST_CASE(a_stream_whose_connection_ended_first_failed) {
  BOOST_TEST(
      (outcome(arrive(2, 8, true, true), StreamEnd::ConnectionEnded) == StreamOutcome::Failed));
  BOOST_TEST(mismatch(arrive(2, 3, false, false), StreamEnd::ConnectionEnded) ==
             "connection ended before the stream closed");
}

BOOST_AUTO_TEST_CASE(without_an_expectation_only_a_given_up_stream_passes) {
  Arrival a;
  a.verifier = sim::ResponseVerifier();
  a.result.status = 200;
  a.result.end_stream = true;
  BOOST_TEST(mismatch(a, StreamEnd::Closed) == "no expectation configured");
  BOOST_TEST((outcome(a, StreamEnd::GivenUp) == StreamOutcome::Cancelled));
}
