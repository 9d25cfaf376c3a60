// What every checked world run, a property case or an explored schedule, is held to: the
// safety rules at every step, and the per-stream, liveness and allocation rules at the end of
// the run. This layer sits between sim/ and its users
// (props/, cli/, tests/, bench/) and links neither RapidCheck nor Boost.Test.
//
// Where each rule is checked:
//   - core, at every step, as the real code runs (core/invariants.h): one write in flight, no
//     encryption while one is, completion spans, parked bytes first, retry length, park fits,
//     both hybrid pins at once, no pass inside an nghttp2 callback. Surfaced here as `core:*`.
//   - StepChecker, at every pass end and write submission/completion (a WorldObserver): pass
//     order, the cap rule, the latch counter, the hybrid pins, drain passes allocate nothing,
//     references per pass (gather), A3's reference operations, A1's growth only, scratch per
//     pass without A1, one write in flight and exact completions seen from the link.
//   - check_run, at the end of the run: per stream delivery, liveness (bound in virtual time),
//     close_notify last, references balanced, the latch at close, allocator clean, PINGs,
//     record counts, A1's growth bound, nghttp2's counts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/pass_record.h"
#include "sim/counting_allocator.h"
#include "sim/observer.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace emitlab::check {

// A broken rule: `rule` names it (the README lists them), `detail` says where and how.
struct Finding {
  std::string rule;
  std::string detail;
  std::string line() const { return rule + ": " + detail; }
};

// Checks made as the run goes; keeps the first finding (the cause; later ones follow from it).
class StepChecker final : public sim::WorldObserver {
 public:
  explicit StepChecker(const sim::Scenario& scenario);

  void on_pass_begin(std::uint64_t t, std::uint32_t c, std::uint64_t pass) override;
  void on_pass_end(std::uint64_t t, std::uint32_t c, const PassRecord& r) override;
  void on_write_submit(std::uint64_t t, std::uint32_t c, std::size_t bytes, bool sync) override;
  void on_write_complete(std::uint64_t t, std::uint32_t c,
                         std::span<const std::uint8_t> bytes) override;
  void on_deliver(std::uint64_t t, std::uint32_t c, std::size_t bytes, bool after_pass) override;

  const std::optional<Finding>& first() const { return first_; }
  // What the checks still to come depend on (for the explorer's state digest): per connection,
  // whether a pass is open, the write in flight, input since the last pass, the last pass's
  // pins, A1's high-water marks, and whether a finding was made. Pass numbers are left out
  // (the pass order rule compares them with core's, which counts the same way).
  std::uint64_t state_digest() const;
  // Every write submission of connection c, in order (the SSL_write sequence seen from the link).
  const std::vector<std::uint64_t>& writes(std::uint32_t c) const { return conns_.at(c).writes; }

 private:
  struct Conn {
    std::uint64_t next_pass = 1;
    std::uint64_t open_pass = 0;  // begun and not yet ended
    bool have_previous = false;
    PassRecord previous;
    bool input_since_pass = false;  // client input reached the server since the last pass
    std::uint64_t inflight = 0;     // bytes of the write in flight, 0 when none
    std::vector<std::uint64_t> writes;
    // A1's high-water marks: a reused list grows only past every earlier pass's need.
    std::uint64_t most_entries = 0;
    std::uint64_t most_retains = 0;
    std::uint32_t emit_buffer_allocs = 0;  // A1 sizes the heap emit buffer once
    std::uint32_t heap_stage_allocs = 0;   // and the heap stage once
    bool beyond_retention = false;         // a pass outgrew A1's bounds: regrowth is legitimate
  };
  Conn& conn(std::uint32_t c);
  void check_pass(std::uint32_t c, const PassRecord& r);
  void check_pins(const Conn& k, const PassRecord& r);
  void check_allocations(const PassRecord& r);
  void check_reuse(Conn& k, const PassRecord& r);
  void report(std::uint32_t c, std::uint64_t t, std::string rule, std::string detail);

  sim::Scenario scenario_;
  std::vector<Conn> conns_;
  std::uint64_t now_ = 0;
  std::uint32_t current_ = 0;
  std::optional<Finding> first_;
};

// Emitter, nghttp2 and OpenSSL allocations per pass (over every pass of every connection).
struct AllocReport {
  std::uint64_t passes = 0;
  std::uint64_t emitter_total = 0, emitter_max = 0;
  std::uint64_t nghttp2_total = 0, nghttp2_max = 0;
  std::uint64_t openssl_total = 0, openssl_max = 0;
  bool openssl_counted = false;
  void add(const AllocReport& other);
  std::string line() const;  // "allocations per pass (mean/max over N passes): ..."
};
AllocReport alloc_report(const sim::RunResult& run, const sim::CountingAllocator& counting);

// Virtual time within which every stream of connection c must end: the serial worst case of
// everything the connection does (every byte, read, write, delay, pause, window credit and
// handler delay one after another, none overlapped), doubled.
std::uint64_t liveness_bound_ns(const sim::Scenario& s, std::uint32_t connection);
// A run that takes more events than this is a livelock (passed to RunOptions::max_events).
std::uint64_t event_bound(const sim::Scenario& s);

// Every rule of a finished run, the first broken one: core's violations (they fail the
// connection, so they are the cause of what follows), then the StepChecker's first finding,
// then the end-of-run rules.
std::optional<Finding> check_run(const sim::RunResult& run, const sim::CountingAllocator& counting,
                                 const std::optional<Finding>& step);

}  // namespace emitlab::check
