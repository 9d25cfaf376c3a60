// Safety rules the real code checks as it runs (P2..P10, numbered as in the README's table of
// invariants), armed everywhere: a violation is recorded with the pass it happened in and fails
// the connection, so a run can never count a stream as delivered past one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emitlab {

enum class Rule : std::uint8_t {
  OneWriteInFlight,        // P2: a second submission while one is in flight
  NoEncryptWhileInFlight,  // P2: SSL_write into the cipher-out ring while a span is out
  CompletionSpan,          // P2: a completion that is not exactly the span in flight
  ParkedFirst,             // P3: a direct write while the plaintext ring holds parked bytes
  RetryLength,             // P3: a retry after WANT_WRITE shorter than the pending record
  ParkFits,                // P4: a parked tail larger than the plaintext ring's free space
  HybridPin,               // P6: both pins at once (a half-sent frame on each side)
  NoSendInCallback,        // P10: an emit pass from inside an nghttp2 callback
  CloseNotifyAfterData,    // P9: close_notify with plaintext queued or a write in flight
};
std::string_view to_string(Rule rule);

struct Violation {
  Rule rule;
  std::uint64_t pass;  // 0: outside any pass
  std::string detail;
};

class InvariantLog {
 public:
  void report(Rule rule, std::uint64_t pass, std::string detail) {
    violations_.push_back({rule, pass, std::move(detail)});
  }
  const std::vector<Violation>& violations() const { return violations_; }
  bool clean() const { return violations_.empty(); }

 private:
  std::vector<Violation> violations_;
};

inline std::string_view to_string(Rule rule) {
  switch (rule) {
    case Rule::OneWriteInFlight:
      return "one_write_in_flight";
    case Rule::NoEncryptWhileInFlight:
      return "no_encrypt_while_in_flight";
    case Rule::CompletionSpan:
      return "completion_span";
    case Rule::ParkedFirst:
      return "parked_first";
    case Rule::RetryLength:
      return "retry_length";
    case Rule::ParkFits:
      return "park_fits";
    case Rule::HybridPin:
      return "hybrid_pin";
    case Rule::NoSendInCallback:
      return "no_send_in_callback";
    case Rule::CloseNotifyAfterData:
      return "close_notify_after_data";
  }
  return "?";
}

}  // namespace emitlab
