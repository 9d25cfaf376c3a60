// What the emit benchmarks run: every named strategy, across body sizes and workload shapes
// (c connections x m concurrent streams), each a fixed number of requests per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/strategy.h"

namespace emitlab::bench {

// How much work one iteration does (requests per connection); see requests_per_connection().
enum class Scale { Full, Quick, Smoke };
const char* to_string(Scale scale);

struct Shape {
  std::uint32_t connections = 1;
  std::uint32_t streams = 1;   // concurrent streams per connection (h2load -m)
  std::uint32_t requests = 1;  // requests per connection per iteration at small bodies
  std::string name() const;    // "c100m32"
};

struct Plan {
  std::string strategy;  // as named in the suite, e.g. "gather@cap=32K"
  StrategySpec spec;
  Shape shape;
  std::size_t body = 3;
  std::uint32_t requests_per_connection = 1;

  std::uint64_t responses() const;
  std::string shape_body() const;  // "c100m32/16K"
  std::string name() const;        // "emit/<strategy>/<shape>/<body>"
};

const std::vector<std::string>& strategy_names();
const std::vector<Shape>& shapes();
const std::vector<std::size_t>& body_sizes();
// The bodies a shape runs: every size, except at 1024 connections (3 B, 100 B, 4 KiB: one
// window of 32 streams of 64 KiB on 1024 connections would be 2 GiB of bodies per iteration).
const std::vector<std::size_t>& body_sizes(const Shape& shape);
// The 1024-connection shapes are not registered at smoke scale: one window on 1024 connections
// is minutes of CI time (bench_smoke covers the same code at c=100 m=32).
bool registered_at(const Shape& shape, Scale scale);
std::optional<Shape> find_shape(std::string_view name);                            // "c100m32"
std::optional<std::size_t> find_body(const Shape& shape, std::string_view label);  // "4K"
std::string body_label(std::size_t body);  // 3B, 100B, 1K, 4K, 16K, 64K, 256K

// The byte budget keeps large bodies from making one iteration take seconds; each connection
// still gets at least one full window of m streams (Full, Quick), or one request (Smoke).
std::uint32_t requests_per_connection(const Shape& shape, std::size_t body, Scale scale);

// Throws std::invalid_argument when a suite name does not parse (a typo in the list).
Plan make_plan(const std::string& strategy, const Shape& shape, std::size_t body, Scale scale);

}  // namespace emitlab::bench
