#include "bench/env.h"

#include <algorithm>
#include <string>

#include "bench/plan.h"
#include "sim/body_pattern.h"

namespace emitlab::bench {
namespace {
Env* g_env = nullptr;
}  // namespace

BodyPool::BodyPool(std::size_t max_body, std::uint64_t seed)
    : pattern_(sim::make_body(seed, 0, max_body + kOffsets)) {}

std::span<const std::uint8_t> BodyPool::body(std::uint64_t request_id, std::size_t size) const {
  const std::size_t offset = static_cast<std::size_t>((request_id * 131) % kOffsets);
  return std::span<const std::uint8_t>(pattern_).subspan(offset, size);
}

sim::ExpectedResponse BodyPool::expected(std::uint64_t request_id, std::size_t size) const {
  sim::ExpectedResponse r;
  r.status = 200;
  r.headers = response_headers(request_id);
  const auto bytes = body(request_id, size);
  r.body.assign(bytes.begin(), bytes.end());
  return r;
}

HeaderTable response_headers(std::uint64_t request_id) {
  return {{"content-type", "application/octet-stream"},
          {"x-emitlab-request", std::to_string(request_id)}};
}

Env::Env()
    : server_tls_(kServerSeed),
      client_tls_(kClientSeed),
      bodies_(*std::max_element(body_sizes().begin(), body_sizes().end()), kBodySeed) {}

Env& env() {
  return *g_env;
}
void set_env(Env* e) {
  g_env = e;
}

}  // namespace emitlab::bench
