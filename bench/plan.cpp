#include "bench/plan.h"

#include <algorithm>
#include <stdexcept>

namespace emitlab::bench {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
// From this many connections on, a shape runs the small bodies only (body_sizes(shape)).
constexpr std::uint32_t kWideConnections = 1024;

// Body bytes one iteration may carry before the request count shrinks toward one window.
std::uint64_t byte_budget(Scale scale) {
  switch (scale) {
    case Scale::Full:
      return 64 * kMiB;
    case Scale::Quick:
      return 16 * kMiB;
    case Scale::Smoke:
      return kMiB / 4;
  }
  return 64 * kMiB;
}

}  // namespace

const char* to_string(Scale scale) {
  switch (scale) {
    case Scale::Full:
      return "full";
    case Scale::Quick:
      return "quick";
    case Scale::Smoke:
      return "smoke";
  }
  return "?";
}

std::string Shape::name() const {
  return "c" + std::to_string(connections) + "m" + std::to_string(streams);
}

std::uint64_t Plan::responses() const {
  return std::uint64_t{shape.connections} * requests_per_connection;
}

std::string Plan::shape_body() const {
  return shape.name() + "/" + body_label(body);
}

std::string Plan::name() const {
  return "emit/" + strategy + "/" + shape_body();
}

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names{
      "drain",          "gather",         "gather+A1",       "gather+A2",
      "gather+A3",      "gather+A1+A3",   "gather+A1+A2+A3", "gather@cap=16K",
      "gather@cap=32K", "gather@cap=64K", "gather@cap=128K", "hybrid"};
  return names;
}

const std::vector<Shape>& shapes() {
  // c=100 m=32 is the upstream bench shape (h2load -c 100 -m 32).
  // c=1024 is the seed's own shape ("baseline-h2 / 1024c"): many connections' state and the
  // teardown of their response objects no longer fit in cache. Their request counts are one
  // window (m=32) and 8 requests (m=1): already 32768 and 8192 responses per iteration.
  static const std::vector<Shape> all{
      {1, 1, 256}, {10, 10, 100}, {100, 32, 64}, {1024, 32, 32}, {1024, 1, 8}};
  return all;
}

const std::vector<std::size_t>& body_sizes(const Shape& shape) {
  static const std::vector<std::size_t> wide{3, 100, 4096};
  return shape.connections >= kWideConnections ? wide : body_sizes();
}

bool registered_at(const Shape& shape, Scale scale) {
  return scale != Scale::Smoke || shape.connections < kWideConnections;
}

std::optional<Shape> find_shape(std::string_view name) {
  for (const Shape& s : shapes()) {
    if (s.name() == name) return s;
  }
  return std::nullopt;
}

std::optional<std::size_t> find_body(const Shape& shape, std::string_view label) {
  for (std::size_t body : body_sizes(shape)) {
    if (body_label(body) == label) return body;
  }
  return std::nullopt;
}

const std::vector<std::size_t>& body_sizes() {
  static const std::vector<std::size_t> sizes{3, 100, 1024, 4096, 16384, 65536, 262144};
  return sizes;
}

std::string body_label(std::size_t body) {
  if (body >= 1024 && body % 1024 == 0) return std::to_string(body / 1024) + "K";
  return std::to_string(body) + "B";
}

std::uint32_t requests_per_connection(const Shape& shape, std::size_t body, Scale scale) {
  const std::uint64_t per_request =
      std::uint64_t{shape.connections} * std::max<std::size_t>(body, 1);
  const std::uint64_t budgeted = std::max<std::uint64_t>(1, byte_budget(scale) / per_request);
  const std::uint32_t floor = scale == Scale::Smoke ? 1 : shape.streams;
  const std::uint32_t most = scale == Scale::Smoke ? shape.streams : shape.requests;
  return static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(budgeted, floor, std::max(floor, most)));
}

Plan make_plan(const std::string& strategy, const Shape& shape, std::size_t body, Scale scale) {
  const SpecParse parsed = parse_strategy(strategy);
  if (!parsed.spec) throw std::invalid_argument(parsed.error);
  Plan plan;
  plan.strategy = strategy;
  plan.spec = *parsed.spec;
  plan.shape = shape;
  plan.body = body;
  plan.requests_per_connection = requests_per_connection(shape, body, scale);
  return plan;
}

}  // namespace emitlab::bench
