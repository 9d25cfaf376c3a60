// The simulated peer's judge of one response: what the response should be, the body checked
// byte for byte as it arrives (so bodies need not be kept), and the one rule that gives a
// stream its outcome when it closes, is given up, or loses its connection.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/header_table.h"

namespace emitlab::sim {

struct ExpectedResponse {
  int status = 200;
  HeaderTable headers;
  std::vector<std::uint8_t> body;
  HeaderTable trailers;
};

enum class StreamOutcome : std::uint8_t { Open, Verified, Failed, Cancelled };

// What the peer recorded of one stream.
struct StreamResult {
  std::int32_t stream_id = 0;
  std::uint64_t request_id = 0;
  int status = 0;
  HeaderTable headers;             // response headers in order, pseudo headers excluded
  bool headers_complete = false;   // the response header block arrived whole (END_HEADERS)
  std::vector<std::uint8_t> body;  // kept only with PeerConfig::keep_bodies
  std::uint64_t body_bytes = 0;
  HeaderTable trailers;
  bool end_stream = false;
  bool reset = false;            // RST_STREAM received
  std::uint32_t error_code = 0;  // of the RST_STREAM, or of the close
  bool verified = false;
  StreamOutcome outcome = StreamOutcome::Open;
  std::string mismatch;             // first difference, human readable
  std::uint64_t requested_at = 0;   // virtual ns
  std::uint64_t first_byte_at = 0;  // first response header block began
  std::uint64_t last_byte_at = 0;   // stream closed
};

// How a stream stopped, for classify().
enum class StreamEnd : std::uint8_t {
  Closed,           // the stream closed (END_STREAM, RST_STREAM or an error): all must match
  GivenUp,          // the peer gave it up (its RST_STREAM or abort): what arrived must match
  ConnectionEnded,  // the connection ended first: failed whatever arrived
};

class ResponseVerifier {
 public:
  // Without an expectation a closed stream fails ("no expectation configured") and a given-up
  // one is accepted.
  explicit ResponseVerifier(std::optional<ExpectedResponse> expected = std::nullopt)
      : expected_(std::move(expected)) {}

  // `data` is the stream's body from offset `at` on; the first wrong byte is remembered.
  void on_body(std::uint64_t at, std::span<const std::uint8_t> data);
  std::optional<std::uint64_t> body_mismatch() const { return body_mismatch_; }
  // The first difference between what arrived and the expectation, empty when none. `partial`:
  // the stream was given up, so only what arrived is compared (a prefix of headers cut mid-block,
  // a prefix of the body, no trailers).
  std::string first_difference(const StreamResult& got, bool partial) const;

 private:
  std::optional<ExpectedResponse> expected_;
  std::optional<std::uint64_t> body_mismatch_;  // offset of the first wrong body byte
  std::uint8_t got_ = 0;
  std::uint8_t want_ = 0;
};

// The one outcome rule: sets r.outcome, r.mismatch and r.verified. Closed: Verified when
// everything matched, else Failed; GivenUp: Cancelled when what arrived matched, else Failed;
// ConnectionEnded: Failed.
void classify(StreamResult& r, const ResponseVerifier& verifier, StreamEnd end);

}  // namespace emitlab::sim
