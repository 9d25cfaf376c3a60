// What `emitlab serve` answers. GET / : a buffered body of the configured size; GET /bytes/N :
// N bytes (N <= kMaxBodyBytes); anything else 404 (unknown path) or 405 (not GET). Bodies are
// the simulator's pattern, make_body(kServeBodySeed, kServeBodyRequest, N), so a client checks
// them byte for byte; every response is a fresh refcounted object (a handler building its
// response), filled by a copy from a pattern prepared once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/allocator.h"
#include "core/server_connection.h"

namespace emitlab::net {

inline constexpr std::uint64_t kServeBodySeed = 0;
inline constexpr std::uint64_t kServeBodyRequest = 0;
inline constexpr std::size_t kMaxBodyBytes = std::size_t{1} << 30;
// The prepared pattern covers this much even when --body is smaller (curl's 1 MiB test).
inline constexpr std::size_t kPreparedPatternBytes = std::size_t{1} << 20;
static_assert(kPreparedPatternBytes <= kMaxBodyBytes);

class BodyHandler {
 public:
  BodyHandler(std::size_t default_body, Allocator& allocator);
  // Answers the stream's request; returns the status it answered with.
  int respond(ServerConnection& connection, ServerStream& stream);
  std::uint64_t requests() const { return requests_; }
  std::uint64_t not_found() const { return not_found_; }

 private:
  std::size_t default_body_;
  Allocator* allocator_;
  std::vector<std::uint8_t> pattern_;
  std::uint64_t requests_ = 0;
  std::uint64_t not_found_ = 0;
};

}  // namespace emitlab::net
