// What each request asks and what the server answers: a pure function of the scenario, the seed
// and the request id, known to both sides (like a server's routing table and a client's test
// plan). Timing (handler delays, streaming chunks) is not decided here: it goes through choices.
// Body bytes depend on stream and position (sim/body_pattern.h), so any loss, duplication or
// reordering changes what the peer receives.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/allocator.h"
#include "core/header_table.h"
#include "core/response.h"
#include "sim/scenario.h"
#include "sim/sim_peer.h"

namespace emitlab::sim {

enum class ResponseKind : std::uint8_t { Buffered, Streaming, Head, Empty, Shared };
std::string_view to_string(ResponseKind k);

struct ResponsePlan {
  ResponseKind kind = ResponseKind::Buffered;
  std::uint64_t body_size = 0;      // bytes sent (0 for head and empty; the shared body's size)
  std::uint64_t declared_size = 0;  // content-length of a HEAD response
  bool trailers = false;
};

class Workload {
 public:
  // The id of the one immutable shared body (never a request id: those stay below 2^32).
  static constexpr std::uint64_t kSharedBodyId = std::uint64_t{1} << 63;

  explicit Workload(const Scenario& scenario);

  ResponsePlan response(std::uint64_t request_id) const;
  RequestSpec request(std::uint64_t request_id) const;
  ExpectedResponse expected(std::uint64_t request_id) const;

  // The server side: the head (status, headers, trailers) and, for buffered bodies, the body.
  ResponseObject::Spec response_spec(std::uint64_t request_id, const ResponsePlan& plan,
                                     const HeaderTable& request_headers) const;
  // Fills `out` with body bytes of `request_id` from position `pos` (shared bodies included).
  void fill(std::uint64_t request_id, const ResponsePlan& plan, std::uint64_t pos,
            std::span<std::uint8_t> out) const;
  std::uint64_t shared_body_size() const { return scenario_->workload.body.max; }
  ResponseObject::Spec shared_spec() const;

  // The request id in a :path of /r/<id>.
  static std::optional<std::uint64_t> request_id_from_path(const HeaderTable& request);
  // Digest of the non-pseudo request headers, as the server echoes it back.
  static std::string header_digest(const HeaderTable& headers);

 private:
  std::uint64_t hash(std::uint64_t request_id, std::uint64_t what) const;
  bool echo_digest() const { return scenario_->workload.request_headers.max > 0; }
  HeaderTable response_headers(std::uint64_t request_id, const ResponsePlan& plan,
                               const HeaderTable& request_headers) const;

  const Scenario* scenario_;
};

// The foundation's expectation of a plain buffered response (kept for its tests).
ExpectedResponse expected_response(std::uint64_t seed, std::uint64_t request_id,
                                   std::size_t body_size);

}  // namespace emitlab::sim
