#include "props/gen.h"

#include <algorithm>
#include <ostream>
#include <utility>
#include <vector>

namespace emitlab::props {
namespace {

using sim::Range;
using sim::Scenario;

// RapidCheck's largest size: a draw made at this size is uniform over its whole range.
constexpr int kFullSize = 100;

template <class T>
struct Alt {
  std::uint32_t weight;
  rc::Gen<T> gen;
};

// One alternative by weight, whatever RapidCheck's size; shrinks toward the first one.
template <class T>
rc::Gen<T> choose(std::vector<Alt<T>> alts) {
  std::uint32_t total = 0;
  for (const auto& a : alts) total += a.weight;
  return rc::gen::exec([alts, total] {
    std::uint32_t u = *rc::gen::resize(kFullSize, rc::gen::inRange<std::uint32_t>(0, total));
    for (const auto& a : alts) {
      if (u < a.weight) return *a.gen;
      u -= a.weight;
    }
    return *alts.back().gen;
  });
}

template <class T>
rc::Gen<T> just(T value) {
  return rc::gen::just(std::move(value));
}

// An element of `items`, the first ones while RapidCheck's size is small; shrinks toward the
// first element.
template <class T>
rc::Gen<T> sized_pick(std::vector<T> items) {
  return rc::gen::map(rc::gen::inRange<std::size_t>(0, items.size()),
                      [items](std::size_t i) { return items[i]; });
}

// An element of `items` drawn uniformly; shrinks toward the first element.
template <class T>
rc::Gen<T> pick(std::vector<T> items) {
  return rc::gen::resize(kFullSize, sized_pick(std::move(items)));
}

rc::Gen<std::uint64_t> in(std::uint64_t lo, std::uint64_t hi_inclusive) {
  return rc::gen::inRange<std::uint64_t>(lo, hi_inclusive + 1);
}

rc::Gen<std::uint32_t> in32(std::uint32_t lo, std::uint32_t hi_inclusive) {
  return rc::gen::inRange<std::uint32_t>(lo, hi_inclusive + 1);
}

// A behaviour that is off in most scenarios (and shrinks to off).
rc::Gen<std::uint32_t> sometimes_permille(std::uint32_t off_weight, std::uint32_t max) {
  return choose<std::uint32_t>(
      {{off_weight, just<std::uint32_t>(0)}, {100 - off_weight, in32(1, max)}});
}

Range point(std::uint64_t v) {
  return {v, v};
}

rc::Gen<Range> ordered(rc::Gen<std::uint64_t> a, rc::Gen<std::uint64_t> b) {
  return rc::gen::exec([a, b] {
    const std::uint64_t x = *a;
    const std::uint64_t y = *b;
    return Range{std::min(x, y), std::max(x, y)};
  });
}

rc::Gen<Range> range_up_to(std::uint64_t lo, std::uint64_t hi) {
  return ordered(in(lo, hi), in(lo, hi));
}

// ---------------------------------------------------------------------------------------------
// Strategies

rc::Gen<std::size_t> gen_cap() {
  const std::vector<std::size_t> edges = {4096, 8192, 16383, 16385, 32768, 65536, 131072, 262144};
  return choose<std::size_t>(
      {{40, just<std::size_t>(StrategySpec::kDefaultCap)},
       {35, pick(edges)},
       {25, rc::gen::inRange<std::size_t>(StrategySpec::kMinCap, StrategySpec::kMaxCap + 1)}});
}

rc::Gen<std::size_t> gen_threshold() {
  const std::vector<std::size_t> edges = {0, 1, 3, 16384, 16393, 65535, 65536};
  return choose<std::size_t>({{50, just<std::size_t>(StrategySpec::kDefaultThreshold)},
                              {30, pick(edges)},
                              {20, rc::gen::inRange<std::size_t>(0, 300001)}});
}

rc::Gen<bool> coin() {
  return pick<bool>({false, true});
}

rc::Gen<StrategySpec> gen_options(StrategyBase base) {
  return rc::gen::exec([base] {
    StrategySpec s;
    s.base = base;
    for (const auto& o : kTrackAOptions) s.*o.member = *coin();
    s.cap = *gen_cap();
    if (base == StrategyBase::Hybrid) s.threshold = *gen_threshold();
    return s;
  });
}

// ---------------------------------------------------------------------------------------------
// Scenario parts

// Bodies are drawn around the edges where framing and records change: 0, 1, 3, the DATA frame
// and TLS record boundaries +-1 (16384, 16393 = 16384 + the 9-byte frame header), the 64 KiB
// window, the cap (+-1, and minus the frame header), and large bodies. `uniform`: every edge
// from the start, rather than small bodies first (hostile schedules need passes that overflow
// the cipher ring).
rc::Gen<Range> gen_body_for(std::size_t cap, bool uniform) {
  const std::vector<std::uint64_t> edges = {0,        1,       3,       100,     16374, 16375,
                                            16376,    16383,   16384,   16385,   16392, 16393,
                                            16394,    32767,   32768,   65535,   65536, 65537,
                                            cap - 10, cap - 9, cap - 8, cap - 1, cap,   cap + 1};
  const std::vector<std::uint64_t> large = {131072, 262145, 1048576};
  auto edge = uniform ? pick(edges) : sized_pick(edges);
  return choose<Range>({{45, rc::gen::map(edge, point)},
                        {25, ordered(edge, edge)},
                        {20, range_up_to(0, 70000)},
                        {10, rc::gen::map(pick(large), point)}});
}

void gen_kinds(Scenario& s, ScenarioShape shape) {
  auto& k = s.workload.kinds;
  auto weight = [](std::uint32_t off) {
    return choose<std::uint32_t>({{off, just<std::uint32_t>(0)}, {100 - off, in32(1, 4)}});
  };
  k.buffered = *choose<std::uint32_t>({{70, just<std::uint32_t>(1)}, {30, in32(0, 4)}});
  k.streaming = shape.input_independent ? 0 : *weight(65);
  k.head = *weight(75);
  k.empty = *weight(75);
  k.shared = *weight(70);
  if (k.total() == 0) k.buffered = 1;
}

void gen_request_shape(Scenario& s, ScenarioShape shape) {
  auto& w = s.workload;
  w.trailers_permille = *sometimes_permille(70, 1000);
  w.request_headers = *choose<Range>({{80, just(point(0))}, {20, range_up_to(0, 8)}});
  w.header_value = *choose<Range>({{80, just(point(0))}, {20, range_up_to(0, 2000)}});
  if (!shape.input_independent) {
    w.handler_delay_ns = *choose<Range>({{70, just(point(0))}, {30, range_up_to(0, 200000)}});
  }
  w.stream_chunk =
      *choose<Range>({{50, just(Range{1024, 16384})},
                      {50, ordered(pick<std::uint64_t>({1, 9, 100, 1000, 16384, 16385, 40000}),
                                   pick<std::uint64_t>({1, 9, 100, 1000, 16384, 16385, 40000}))}});
  w.stream_interval_ns =
      *choose<Range>({{60, just(Range{0, 10000})}, {40, range_up_to(0, 100000)}});
}

void gen_workload(Scenario& s, ScenarioShape shape) {
  auto& w = s.workload;
  w.connections = *choose<std::uint32_t>({{60, just<std::uint32_t>(1)}, {40, in32(2, 4)}});
  const std::uint32_t per_connection = *in32(1, shape.many_passes ? 200 : 40);
  w.concurrency = *choose<std::uint32_t>({{50, just<std::uint32_t>(100)}, {50, in32(1, 100)}});
  w.pacing = shape.input_independent
                 ? sim::Pacing::Lockstep
                 : *pick<sim::Pacing>({sim::Pacing::Lockstep, sim::Pacing::ClosedLoop});
  w.body = *gen_body_for(s.strategy.cap, shape.hostile);
  // A scenario carries at most kBodyBudget of bodies: fewer requests when bodies are large.
  const std::uint64_t fits =
      w.body.max == 0 ? per_connection : kBodyBudget / (w.body.max * w.connections);
  w.requests = w.connections * std::clamp<std::uint32_t>(
                                   static_cast<std::uint32_t>(std::min<std::uint64_t>(fits, 1000)),
                                   1, per_connection);
  gen_kinds(s, shape);
  gen_request_shape(s, shape);
}

void gen_link(Scenario& s, ScenarioShape shape) {
  auto& l = s.link;
  const std::uint32_t calm = shape.hostile ? 20 : 50;
  l.completions =
      *choose<sim::CompletionMode>({{calm, just(sim::CompletionMode::Async)},
                                    {(100 - calm) / 2, just(sim::CompletionMode::Sync)},
                                    {(100 - calm) / 2, just(sim::CompletionMode::Mixed)}});
  l.sync_permille = *choose<std::uint32_t>({{60, just<std::uint32_t>(500)}, {40, in32(1, 999)}});
  l.write_delay_ns = *choose<Range>(
      {{60, just(Range{1000, 5000})}, {20, just(point(0))}, {20, range_up_to(0, 20000)}});
  l.latency_ns = *choose<Range>(
      {{60, just(point(20000))}, {20, just(point(0))}, {20, range_up_to(0, 100000)}});
  l.bandwidth = *pick<std::uint64_t>({1250000000, 0, 10000000});
  l.buffer =
      *choose<std::uint64_t>({{calm, just<std::uint64_t>(262144)},
                              {100 - calm, pick<std::uint64_t>({1024, 4096, 17408, 65536})}});
  l.read_chunk =
      *choose<Range>({{60, just(Range{1024, 65536})}, {40, ordered(in(1, 70000), in(1, 70000))}});
  l.read_delay_ns = *choose<Range>(
      {{60, just(Range{0, 2000})}, {20, just(point(0))}, {20, range_up_to(0, 50000)}});
  l.pause_permille = *sometimes_permille(shape.hostile ? 40 : 75, 500);
  l.pause_ns = *choose<Range>({{60, just(Range{10000, 100000})}, {40, range_up_to(0, 1000000)}});
}

void gen_peer(Scenario& s, ScenarioShape shape) {
  auto& p = s.peer;
  if (!shape.input_independent) {
    p.window = *choose<sim::WindowPolicy>(
        {{shape.hostile ? 20u : 40u, just(sim::WindowPolicy::Wide)},
         {15, just(sim::WindowPolicy::Eager)},
         {15, just(sim::WindowPolicy::Half)},
         {shape.hostile ? 25u : 15u, just(sim::WindowPolicy::Stingy)},
         {shape.hostile ? 25u : 15u, just(sim::WindowPolicy::Withheld)}});
    p.ping_permille = *sometimes_permille(75, 300);
    p.reset_permille = *sometimes_permille(75, 100);
    p.goaway_permille = *sometimes_permille(85, 300);
    p.abrupt_close_permille = *sometimes_permille(90, 50);
  }
  p.initial_window =
      *choose<std::uint32_t>({{50, just<std::uint32_t>(65535)},
                              {30, pick<std::uint32_t>({16384, 16385, 1024, 65536, 1 << 20})},
                              {20, in32(256, 200000)}});
  p.connection_window =
      *choose<std::uint32_t>({{60, just<std::uint32_t>(65535)}, {40, in32(65535, 1 << 24)}});
  p.stingy_increment =
      *choose<std::uint32_t>({{60, just<std::uint32_t>(1024)}, {40, in32(256, 65536)}});
  p.window_delay_ns = *choose<Range>({{60, just(Range{1000, 50000})}, {40, range_up_to(1, 1000)}});
  p.input_after_pass_permille = *choose<std::uint32_t>(
      {{50, just<std::uint32_t>(500)}, {50, pick<std::uint32_t>({0, 1000, 100, 900})}});
}

void gen_rings(Scenario& s, ScenarioShape shape) {
  auto& r = s.rings;
  // A one-record cipher ring is where parks happen (upstream tls/014 forced it by a rebuild).
  r.cipher_out_records =
      *choose<std::uint32_t>({{shape.hostile ? 15u : 50u, just<std::uint32_t>(0)},
                              {shape.hostile ? 50u : 15u, just<std::uint32_t>(1)},
                              {35, in32(1, 16)}});
  r.plaintext = *choose<std::uint64_t>(
      {{60, just<std::uint64_t>(32768)},
       {40, pick<std::uint64_t>({65536, 16649, 20000, 1 << 20, 4096, 16384, 16648})}});
  r.cipher_in = *pick<std::uint64_t>({17408, 65536});
}

// Runs whose every read or window credit is tiny would take millions of events: the smallest
// unit of progress grows with the bytes the scenario carries (keeps a case to milliseconds).
void bound_work(Scenario& s) {
  constexpr std::uint64_t kUnits = 20000;
  const std::uint64_t bytes = s.workload.requests * (s.workload.body.max + 1024);
  const std::uint64_t unit = std::max<std::uint64_t>(1, bytes / kUnits);
  auto& rc = s.link.read_chunk;
  rc.min = std::max(rc.min, std::min<std::uint64_t>(unit, 1 << 20));
  rc.max = std::max(rc.max, rc.min);
  const auto unit32 = static_cast<std::uint32_t>(std::min<std::uint64_t>(unit, 1u << 20));
  s.peer.initial_window = std::max(s.peer.initial_window, unit32);
  s.peer.stingy_increment = std::max(s.peer.stingy_increment, unit32);
  auto& chunk = s.workload.stream_chunk;
  chunk.min = std::max(chunk.min, std::min<std::uint64_t>(unit, 1 << 20));
  chunk.max = std::max(chunk.max, chunk.min);
}

}  // namespace

rc::Gen<StrategySpec> gen_strategy() {
  return rc::gen::exec([] {
    const auto base =
        *pick<StrategyBase>({StrategyBase::Gather, StrategyBase::Hybrid, StrategyBase::Drain});
    if (base == StrategyBase::Drain) return StrategySpec{};
    return *gen_options(base);
  });
}

rc::Gen<StrategySpec> gen_gather_family() {
  return rc::gen::exec([] {
    return *gen_options(*pick<StrategyBase>({StrategyBase::Gather, StrategyBase::Hybrid}));
  });
}

rc::Gen<StrategySpec> gen_gather_a3() {
  return rc::gen::map(gen_options(StrategyBase::Gather), [](StrategySpec s) {
    s.release_at_close = true;
    return s;
  });
}

rc::Gen<Scenario> gen_scenario(rc::Gen<StrategySpec> strategy, ScenarioShape shape) {
  return rc::gen::exec([strategy, shape] {
    Scenario s;
    s.strategy = *strategy;
    gen_workload(s, shape);
    gen_link(s, shape);
    gen_peer(s, shape);
    gen_rings(s, shape);
    bound_work(s);
    // Last, so that shrinking simplifies the scenario before it tries other timings.
    s.seed = *in(1, 1000000);
    return s;
  });
}

rc::Gen<Case> gen_case(rc::Gen<StrategySpec> strategy, ScenarioShape shape, std::string emitter) {
  return rc::gen::map(gen_scenario(std::move(strategy), shape), [emitter](Scenario s) {
    return Case{std::move(s), emitter};
  });
}

void showValue(const Case& c, std::ostream& os) {
  if (!c.emitter.empty()) os << "emitter " << c.emitter << ", ";
  os << "scenario " << sim::canonical_json(c.scenario, -1);
}

}  // namespace emitlab::props

namespace emitlab::sim {
void showValue(const Scenario& s, std::ostream& os) {
  os << canonical_json(s, -1);
}
}  // namespace emitlab::sim

namespace emitlab {
void showValue(const StrategySpec& s, std::ostream& os) {
  os << s.name();
}
}  // namespace emitlab
