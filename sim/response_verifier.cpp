#include "sim/response_verifier.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>

namespace emitlab::sim {
namespace {

std::string h2_error_name(std::uint32_t code) {
  return std::string(nghttp2_http2_strerror(code)) + " (" + std::to_string(code) + ")";
}

std::string hex_byte(std::uint8_t b) {
  std::array<char, 8> buf{};
  std::snprintf(buf.data(), buf.size(), "0x%02x", b);
  return buf.data();
}

std::string field_text(const HeaderField& f) {
  return "'" + f.name + ": " + f.value + "'";
}

// `cut`: the block was cut off (the peer gave up mid-block), so a prefix of `want` is right.
std::string table_difference(std::string_view what, const HeaderTable& got, const HeaderTable& want,
                             bool cut = false) {
  const std::size_t common = std::min(got.size(), want.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (got[i] != want[i]) {
      return std::string(what) + " " + std::to_string(i) + ": got " + field_text(got[i]) +
             ", expected " + field_text(want[i]);
    }
  }
  if (got.size() > want.size()) {
    return std::string(what) + " count: got " + std::to_string(got.size()) + ", expected " +
           std::to_string(want.size()) + "; unexpected " + field_text(got[common]);
  }
  if (got.size() < want.size() && !cut) {
    return std::string(what) + " count: got " + std::to_string(got.size()) + ", expected " +
           std::to_string(want.size()) + "; missing " + field_text(want[common]);
  }
  return {};
}

}  // namespace

void ResponseVerifier::on_body(std::uint64_t at, std::span<const std::uint8_t> data) {
  if (!expected_ || body_mismatch_) return;
  const auto& want = expected_->body;
  const std::size_t common =
      at >= want.size() ? 0 : std::min<std::size_t>(data.size(), want.size() - at);
  const auto [g, w] = std::mismatch(data.begin(), data.begin() + common, want.begin() + at);
  if (g != data.begin() + common) {
    body_mismatch_ = at + static_cast<std::uint64_t>(g - data.begin());
    got_ = *g;
    want_ = *w;
  }
}

std::string ResponseVerifier::first_difference(const StreamResult& got, bool partial) const {
  if (!partial) {
    if (got.reset) return "stream reset by server: " + h2_error_name(got.error_code);
    if (got.error_code != 0) return "stream closed with " + h2_error_name(got.error_code);
    if (!got.end_stream) return "stream closed without END_STREAM";
  }
  if (!expected_) return partial ? std::string{} : "no expectation configured";
  const ExpectedResponse& want = *expected_;
  if (partial && got.status == 0) return {};
  if (got.status != want.status) {
    return "status: got " + std::to_string(got.status) + ", expected " +
           std::to_string(want.status);
  }
  // nghttp2 hands over fields as it decodes them, so a block the peer gave up mid-way (split
  // across records, the rest never read) shows a prefix of the headers.
  const bool cut = partial && !got.headers_complete;
  if (auto d = table_difference("header", got.headers, want.headers, cut); !d.empty()) return d;
  if (body_mismatch_) {
    return "body byte at offset " + std::to_string(*body_mismatch_) + ": got " + hex_byte(got_) +
           ", expected " + hex_byte(want_);
  }
  if (got.body_bytes > want.body.size() || (!partial && got.body_bytes != want.body.size())) {
    return "body length: got " + std::to_string(got.body_bytes) + ", expected " +
           std::to_string(want.body.size());
  }
  if (partial) return {};
  return table_difference("trailer", got.trailers, want.trailers);
}

void classify(StreamResult& r, const ResponseVerifier& verifier, StreamEnd end) {
  if (end == StreamEnd::ConnectionEnded) {
    r.mismatch = "connection ended before the stream closed";
    r.outcome = StreamOutcome::Failed;
    return;
  }
  const bool given_up = end == StreamEnd::GivenUp;
  r.mismatch = verifier.first_difference(r, given_up);
  if (!r.mismatch.empty()) {
    r.outcome = StreamOutcome::Failed;
  } else {
    r.outcome = given_up ? StreamOutcome::Cancelled : StreamOutcome::Verified;
  }
  r.verified = r.outcome == StreamOutcome::Verified;
}

}  // namespace emitlab::sim
