#include "check/rules.h"

#include <algorithm>
#include <functional>
#include <sstream>

#include "core/invariants.h"
#include "core/wire_limits.h"
#include "sim/prng.h"
#include "sim/workload.h"

namespace emitlab::check {
namespace {

using sim::ConnectionResult;
using sim::RunResult;
using sim::Scenario;

constexpr std::uint32_t kGatherListsRetained = 2048;  // below it A1 keeps every list (A1 bounds)

std::string str(std::uint64_t v) {
  return std::to_string(v);
}

std::string where(const ConnectionResult& c) {
  return "connection " + str(c.index);
}

std::string where(const ConnectionResult& c, const sim::StreamResult& st) {
  return where(c) + ", stream " + std::to_string(st.stream_id) + " (request " + str(st.request_id) +
         ")";
}

using Check = std::function<std::optional<Finding>()>;

std::optional<Finding> first_of(std::initializer_list<Check> checks) {
  for (const auto& check : checks) {
    if (auto f = check()) return f;
  }
  return std::nullopt;
}

// The peer's behaviours that may cancel a stream (the scenario caused it, the run reports it).
bool peer_may_cancel(const Scenario& s) {
  return s.peer.reset_permille > 0 || s.peer.goaway_permille > 0 ||
         s.peer.abrupt_close_permille > 0;
}

bool is_prefix(const std::vector<std::uint8_t>& got, const std::vector<std::uint8_t>& want) {
  return got.size() <= want.size() && std::equal(got.begin(), got.end(), want.begin());
}

std::optional<std::uint64_t> first_difference(const std::vector<std::uint8_t>& a,
                                              const std::vector<std::uint8_t>& b) {
  const auto n = std::min(a.size(), b.size());
  const auto m = std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin());
  if (m.first != a.begin() + static_cast<std::ptrdiff_t>(n)) {
    return static_cast<std::uint64_t>(m.first - a.begin());
  }
  if (a.size() != b.size()) return n;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// End of run: each check returns the first broken rule it finds.

std::optional<Finding> core_violations(const RunResult& run) {
  for (const auto& c : run.connections) {
    if (c.violations.empty()) continue;
    const Violation& v = c.violations.front();
    return Finding{"core:" + std::string(to_string(v.rule)),
                   where(c) + ", pass " + str(v.pass) + ": " + v.detail};
  }
  return std::nullopt;
}

std::optional<Finding> run_failure(const RunResult& run) {
  if (run.replay_diverged) return Finding{"replay_diverged", run.failure};
  if (run.failure.empty()) return std::nullopt;
  if (run.stalled()) return Finding{"liveness_stalled", run.failure};
  if (run.end == sim::RunEnd::EventLimit) return Finding{"liveness_events", run.failure};
  return Finding{"run_failed", run.failure};
}

std::optional<Finding> verified_stream(const ConnectionResult& c, const sim::StreamResult& st,
                                       const sim::ExpectedResponse& want) {
  std::string what;
  if (st.status != want.status)
    what = "status " + std::to_string(st.status);
  else if (!(st.headers == want.headers))
    what = "headers";
  else if (auto at = first_difference(st.body, want.body))
    what = "body at byte " + str(*at);
  else if (!(st.trailers == want.trailers))
    what = "trailers";
  else if (!st.end_stream || st.reset)
    what = "no END_STREAM";
  if (what.empty()) return std::nullopt;
  return Finding{"stream_delivered", where(c, st) + ": the peer verified it but " + what +
                                         " differs from what was submitted"};
}

std::optional<Finding> check_stream(const Scenario& s, const sim::Workload& plan,
                                    const ConnectionResult& c, const sim::StreamResult& st) {
  const sim::ExpectedResponse want = plan.expected(st.request_id);
  switch (st.outcome) {
    case sim::StreamOutcome::Verified:
      return verified_stream(c, st, want);
    case sim::StreamOutcome::Cancelled:
      if (!peer_may_cancel(s)) {
        return Finding{
            "stream_cancel_caused",
            where(c, st) + ": cancelled, but the scenario has no peer reset, GOAWAY or close"};
      }
      if (!is_prefix(st.body, want.body)) {
        return Finding{
            "stream_delivered",
            where(c, st) + ": cancelled with a body that is not a prefix of what was submitted"};
      }
      return std::nullopt;
    case sim::StreamOutcome::Failed:
      return Finding{"stream_delivered", where(c, st) + ": " + st.mismatch};
    case sim::StreamOutcome::Open:
      return Finding{"liveness_open", where(c, st) + ": still open when the run ended"};
  }
  return std::nullopt;
}

std::optional<Finding> streams(const RunResult& run) {
  const sim::Workload plan(run.scenario);
  for (const auto& c : run.connections) {
    for (const auto& st : c.streams) {
      if (auto f = check_stream(run.scenario, plan, c, st)) return f;
    }
    if (c.responses_verified + c.responses_cancelled != c.requests || c.responses_failed > 0) {
      return Finding{"stream_delivered", where(c) + ": " + str(c.responses_verified) +
                                             " verified + " + str(c.responses_cancelled) +
                                             " cancelled of " + str(c.requests) + " requests (" +
                                             str(c.responses_failed) + " failed)"};
    }
  }
  return std::nullopt;
}

std::optional<Finding> liveness(const RunResult& run) {
  std::uint64_t slowest = 0;
  for (const auto& c : run.connections) {
    const std::uint64_t bound = liveness_bound_ns(run.scenario, c.index);
    slowest = std::max(slowest, bound);
    for (const auto& st : c.streams) {
      if (st.last_byte_at < st.requested_at || st.last_byte_at - st.requested_at <= bound) continue;
      return Finding{"liveness_bound", where(c, st) + ": took " +
                                           str(st.last_byte_at - st.requested_at) +
                                           " ns of virtual time, bound " + str(bound)};
    }
  }
  if (run.virtual_ns > 2 * slowest) {
    return Finding{"liveness_bound", "the run took " + str(run.virtual_ns) +
                                         " ns of virtual time, bound " + str(2 * slowest)};
  }
  return std::nullopt;
}

// Rules for every connection, dropped by the peer or not: the server ends with no stream open
// (a graceful shutdown lets them finish, a dying transport cancels them), hybrid's latch back at
// zero, and every reference taken released and counted (on_transport_closed releases a dropped
// connection's before the counts are read).
std::optional<Finding> every_end(const ConnectionResult& c) {
  if (c.open_streams_at_close != 0) {
    return Finding{"streams_ended_at_close", where(c) + ": " + str(c.open_streams_at_close) +
                                                 " streams still open when the server closed"};
  }
  if (c.latch_counter_at_close != 0 || c.latched_open_at_close != 0) {
    return Finding{"latch_at_close", where(c) + ": hybrid's latch counter is " +
                                         str(c.latch_counter_at_close) + " at the end, " +
                                         str(c.latched_open_at_close) + " latched streams open"};
  }
  const PassRecord& t = c.totals;
  if (t.ref_retains != t.ref_releases) {
    return Finding{"refs_balanced", where(c) + ": " + str(t.ref_retains) + " references taken, " +
                                        str(t.ref_releases) + " released by the end"};
  }
  return std::nullopt;
}

// Rules for connections that ended cleanly (not dropped by the peer).
std::optional<Finding> clean_end(const Scenario& s, const ConnectionResult& c) {
  if (c.aborted) return std::nullopt;
  if (!c.close_notify_is_last) {
    return Finding{"close_notify_last", where(c) + ": close_notify is not the last record"};
  }
  // A peer that sent GOAWAY stops reading once its last stream closes, and may leave a PING
  // whose ACK is on its way (the peer itself fails on a second ACK, or an ACK of no PING).
  const bool peer_may_stop_reading = s.peer.goaway_permille > 0;
  if (c.pings_acked != c.pings_sent && !(peer_may_stop_reading && c.pings_acked < c.pings_sent)) {
    return Finding{"pings_once",
                   where(c) + ": " + str(c.pings_sent) + " PINGs, " + str(c.pings_acked) + " ACKs"};
  }
  if (c.totals.tls_records != c.records.size()) {
    return Finding{"records_counted", where(c) + ": OpenSSL made " + str(c.totals.tls_records) +
                                          " records, the peer parsed " + str(c.records.size())};
  }
  return std::nullopt;
}

std::optional<Finding> connection_ends(const RunResult& run) {
  for (const auto& c : run.connections) {
    if (auto f = every_end(c)) return f;
    if (auto f = clean_end(run.scenario, c)) return f;
  }
  return std::nullopt;
}

std::optional<Finding> allocator_clean(const RunResult& run,
                                       const sim::CountingAllocator& counting) {
  if (run.allocations.violations > 0) {
    const auto v = counting.violations();
    return Finding{"allocator_clean", str(run.allocations.violations) + " bad frees, first: " +
                                          (v.empty() ? "?" : to_string(v.front()))};
  }
  for (const auto& leak : counting.leaks()) {
    if (leak.owner == AllocOwner::OpenSsl) continue;  // OpenSSL's own caches (sim/world.cpp)
    return Finding{"freed_everything", "still allocated after the run: " + to_string(leak)};
  }
  return std::nullopt;
}

std::uint64_t growth_steps(std::uint64_t needed, std::uint64_t initial) {
  if (needed == 0) return 0;
  std::uint64_t steps = 1;
  for (std::uint64_t cap = initial; cap < needed; cap *= 2) ++steps;
  return steps;
}

// A1 keeps its scratch: every allocation grows a list or a buffer past what every earlier pass
// needed, so a connection makes at most the growth steps of its busiest pass (references are
// at most the gather entries), one heap emit buffer and one heap stage.
std::optional<Finding> a1_growth(const RunResult& run) {
  if (!run.scenario.strategy.reuse_scratch) return std::nullopt;
  for (const auto& c : run.connections) {
    std::uint64_t busiest = 0, allocs = 0;
    for (const auto& p : c.passes) {
      busiest = std::max<std::uint64_t>(busiest, p.gather_entries);
      allocs += p.emitter_allocs();
    }
    if (busiest > kGatherListsRetained) continue;  // beyond A1's retention bounds
    const std::uint64_t bound = growth_steps(busiest, 64) + growth_steps(busiest, 32) + 2;
    if (allocs > bound) {
      return Finding{"a1_growth_only", where(c) + ": " + str(allocs) +
                                           " emitter allocations in passes, at most " + str(bound) +
                                           " growth steps for " + str(busiest) + " gather entries"};
    }
  }
  return std::nullopt;
}

std::optional<Finding> nghttp2_counted(const RunResult& run,
                                       const sim::CountingAllocator& counting) {
  for (const auto& c : run.connections) {
    for (const auto& p : c.passes) {
      const auto seen = counting.for_pass(c.index, p.index, AllocOwner::Nghttp2).allocations;
      if (seen == p.nghttp2_allocs) continue;
      return Finding{"nghttp2_counted", where(c) + ", pass " + str(p.index) +
                                            ": the pass record has " + str(p.nghttp2_allocs) +
                                            " nghttp2 allocations, the allocator " + str(seen)};
    }
  }
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// StepChecker

StepChecker::StepChecker(const Scenario& scenario)
    : scenario_(scenario), conns_(scenario.workload.connections) {}

std::uint64_t StepChecker::state_digest() const {
  std::uint64_t h = first_.has_value();
  auto add = [&h](std::uint64_t v) { h = sim::mix_all(h, v); };
  for (const Conn& k : conns_) {
    add(k.open_pass != 0);
    add(k.have_previous);
    add(k.previous.drain_slice_parked);
    add(k.previous.gather_frame_deferred);
    add(k.input_since_pass);
    add(k.inflight);
    add(k.most_entries);
    add(k.most_retains);
    add(k.emit_buffer_allocs);
    add(k.heap_stage_allocs);
    add(k.beyond_retention);
  }
  return h;
}

StepChecker::Conn& StepChecker::conn(std::uint32_t c) {
  current_ = c;
  return conns_.at(c);
}

void StepChecker::report(std::uint32_t c, std::uint64_t t, std::string rule, std::string detail) {
  if (first_) return;
  first_ = Finding{std::move(rule), "connection " + str(c) + " at " + str(t) + " ns: " + detail};
}

void StepChecker::on_pass_begin(std::uint64_t t, std::uint32_t c, std::uint64_t pass) {
  now_ = t;
  Conn& k = conn(c);
  if (k.open_pass != 0 || pass != k.next_pass) {
    report(c, t, "pass_order",
           "pass " + str(pass) + " began (expected " + str(k.next_pass) + ", open " +
               str(k.open_pass) + ")");
  }
  k.open_pass = pass;
}

void StepChecker::on_pass_end(std::uint64_t t, std::uint32_t c, const PassRecord& r) {
  now_ = t;
  Conn& k = conn(c);
  if (k.open_pass != r.index) {
    report(c, t, "pass_order",
           "pass " + str(r.index) + " ended, pass " + str(k.open_pass) + " was open");
  }
  check_pass(c, r);
  k.open_pass = 0;
  k.next_pass = r.index + 1;
  k.previous = r;
  k.have_previous = true;
  k.input_since_pass = false;
}

void StepChecker::check_pass(std::uint32_t c, const PassRecord& r) {
  const StrategySpec& spec = scenario_.strategy;
  const std::string pass = "pass " + str(r.index) + " (" + std::string(to_string(r.kind)) + ")";
  if (r.kind == PassKind::Gather && !r.skipped && r.bytes > gather_worst_pass(spec.cap)) {
    report(c, now_, "cap_rule",
           pass + " carried " + str(r.bytes) + " bytes, the rule allows " +
               str(gather_worst_pass(spec.cap)));
  }
  const bool hybrid = spec.base == StrategyBase::Hybrid;
  if (r.latch_counter != r.latched_open || (!hybrid && r.latch_counter != 0)) {
    report(c, now_, "latch_counter",
           pass + ": counter " + str(r.latch_counter) + ", " + str(r.latched_open) +
               " latched streams open");
  }
  check_pins(conns_.at(c), r);
  check_allocations(r);
  check_reuse(conns_.at(c), r);
}

// A1: no emitter allocation after warm-up. A pass allocates its gather list only when it needs
// more entries than every earlier pass, its reference list only when it has more slices than
// every earlier pass had references (slices are at most the entries), and the heap emit buffer
// and the heap stage are sized once for the worst pass the cap allows.
void StepChecker::check_reuse(Conn& k, const PassRecord& r) {
  if (!scenario_.strategy.reuse_scratch || r.kind != PassKind::Gather) return;
  k.beyond_retention = k.beyond_retention || r.gather_entries > kGatherListsRetained;
  if (k.beyond_retention) return;
  auto allocs = [&](AllocSite s) { return r.allocs[static_cast<std::size_t>(s)]; };
  const std::string pass = "pass " + str(r.index) + " (A1)";
  if (allocs(AllocSite::GatherList) > 0 && r.gather_entries <= k.most_entries) {
    report(current_, now_, "a1_growth_only",
           pass + " allocated its gather list for " + str(r.gather_entries) +
               " entries; an earlier pass already needed " + str(k.most_entries));
  }
  if (allocs(AllocSite::RefList) > 0 && r.gather_entries <= k.most_retains) {
    report(current_, now_, "a1_growth_only",
           pass + " allocated its reference list with at most " + str(r.gather_entries) +
               " slices; an earlier pass took " + str(k.most_retains) + " references");
  }
  k.emit_buffer_allocs += allocs(AllocSite::EmitBuffer);
  k.heap_stage_allocs += allocs(AllocSite::HeapStage);
  if (k.emit_buffer_allocs > 1 || k.heap_stage_allocs > 1) {
    report(current_, now_, "a1_growth_only",
           pass + ": " + str(k.emit_buffer_allocs) + " heap emit buffers and " +
               str(k.heap_stage_allocs) +
               " heap stages so far (one each, sized for the worst pass)");
  }
  k.most_entries = std::max<std::uint64_t>(k.most_entries, r.gather_entries);
  k.most_retains = std::max<std::uint64_t>(k.most_retains, r.ref_retains);
}

void StepChecker::check_pins(const Conn& k, const PassRecord& r) {
  if (!k.have_previous) return;
  const PassRecord& p = k.previous;
  if (p.drain_slice_parked && r.kind != PassKind::Drain) {
    report(current_, now_, "pin_drain",
           "pass " + str(r.index) + " is a gather pass while drain's slice parked in pass " +
               str(p.index) + " holds bytes");
  }
  // A peer's RST_STREAM may close the deferred frame's stream between passes (nghttp2 then
  // drops the frame): with peer resets in the scenario, the pin is decidable from the records
  // only when no client input arrived in between.
  const bool may_have_closed = k.input_since_pass && scenario_.peer.reset_permille > 0;
  if (p.gather_frame_deferred && !may_have_closed && r.kind != PassKind::Gather) {
    report(current_, now_, "pin_gather",
           "pass " + str(r.index) + " is a drain pass while the frame gather deferred in pass " +
               str(p.index) + " is pending");
  }
}

void StepChecker::check_allocations(const PassRecord& r) {
  const StrategySpec& spec = scenario_.strategy;
  const std::string pass = "pass " + str(r.index) + " (" + std::string(to_string(r.kind)) + ")";
  // A drain pass copies: it allocates nothing and takes no reference. Under hybrid+A3 a stream
  // that started in a gather pass may close in a drain pass and release its one reference there.
  const std::uint32_t drain_releases = spec.release_at_close ? 0 : r.ref_releases;
  if (r.kind == PassKind::Drain &&
      (r.emitter_allocs() + r.emitter_frees() + r.ref_retains + drain_releases) > 0) {
    report(current_, now_, "drain_no_alloc",
           pass + ": " + str(r.emitter_allocs()) + " allocations, " + str(r.emitter_frees()) +
               " frees, " + str(r.ref_ops()) + " reference operations");
  }
  // A3: one reference per stream, taken in the pass its first slice goes out and released in
  // the pass it closes (or after), so only passes where streams start or close touch counts.
  if (spec.release_at_close &&
      (r.ref_retains > r.streams_started || r.ref_releases > r.streams_closed)) {
    report(current_, now_, "a3_refs_at_open_close",
           pass + ": " + str(r.ref_retains) + " retains, " + str(r.ref_releases) + " releases; " +
               str(r.streams_started) + " streams started, " + str(r.streams_closed) + " closed");
  }
  if (r.kind != PassKind::Gather) return;
  // Gather as shipped takes one reference per DATA slice and drops them all after the flush.
  if (!spec.release_at_close && r.ref_retains != r.ref_releases) {
    report(current_, now_, "refs_per_pass",
           pass + ": " + str(r.ref_retains) + " references taken, " + str(r.ref_releases) +
               " released after its flush");
  }
  if (spec.reuse_scratch && r.gather_entries <= kGatherListsRetained &&
      r.emitter_frees() > r.emitter_allocs()) {
    report(current_, now_, "a1_growth_only",
           pass + ": " + str(r.emitter_frees()) + " frees, " + str(r.emitter_allocs()) +
               " allocations (A1 frees only what growth replaced)");
  }
  if (!spec.reuse_scratch && r.emitter_allocs() != r.emitter_frees()) {
    report(current_, now_, "scratch_per_pass",
           pass + ": " + str(r.emitter_allocs()) + " allocations, " + str(r.emitter_frees()) +
               " frees (without A1 a pass returns its scratch)");
  }
}

void StepChecker::on_write_submit(std::uint64_t t, std::uint32_t c, std::size_t bytes, bool) {
  Conn& k = conn(c);
  if (k.inflight != 0) {
    report(c, t, "one_write_in_flight",
           "a write of " + str(bytes) + " bytes submitted while " + str(k.inflight) +
               " are in flight");
  }
  k.inflight = bytes;
  k.writes.push_back(bytes);
}

void StepChecker::on_write_complete(std::uint64_t t, std::uint32_t c,
                                    std::span<const std::uint8_t> bytes) {
  Conn& k = conn(c);
  if (bytes.size() != k.inflight) {
    report(
        c, t, "completion_span",
        "a completion of " + str(bytes.size()) + " bytes, " + str(k.inflight) + " were in flight");
  }
  k.inflight = 0;
}

void StepChecker::on_deliver(std::uint64_t, std::uint32_t c, std::size_t, bool) {
  conn(c).input_since_pass = true;
}

// ---------------------------------------------------------------------------------------------

void AllocReport::add(const AllocReport& o) {
  passes += o.passes;
  emitter_total += o.emitter_total;
  nghttp2_total += o.nghttp2_total;
  openssl_total += o.openssl_total;
  emitter_max = std::max(emitter_max, o.emitter_max);
  nghttp2_max = std::max(nghttp2_max, o.nghttp2_max);
  openssl_max = std::max(openssl_max, o.openssl_max);
  openssl_counted = openssl_counted || o.openssl_counted;
}

std::string AllocReport::line() const {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(2);
  const double n = passes > 0 ? static_cast<double>(passes) : 1.0;
  os << "allocations per pass (mean/max over " << passes << " passes): emitter "
     << static_cast<double>(emitter_total) / n << "/" << emitter_max << ", nghttp2 "
     << static_cast<double>(nghttp2_total) / n << "/" << nghttp2_max << ", openssl ";
  if (openssl_counted) {
    os << static_cast<double>(openssl_total) / n << "/" << openssl_max;
  } else {
    os << "not counted (hooks not installed)";
  }
  return os.str();
}

AllocReport alloc_report(const RunResult& run, const sim::CountingAllocator& counting) {
  AllocReport a;
  a.openssl_counted = counting.openssl_counted();
  for (const auto& c : run.connections) {
    for (const auto& p : c.passes) {
      const std::uint64_t openssl =
          counting.for_pass(c.index, p.index, AllocOwner::OpenSsl).allocations;
      ++a.passes;
      a.emitter_total += p.emitter_allocs();
      a.nghttp2_total += p.nghttp2_allocs;
      a.openssl_total += openssl;
      a.emitter_max = std::max<std::uint64_t>(a.emitter_max, p.emitter_allocs());
      a.nghttp2_max = std::max<std::uint64_t>(a.nghttp2_max, p.nghttp2_allocs);
      a.openssl_max = std::max(a.openssl_max, openssl);
    }
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// Bounds

namespace {

constexpr std::uint64_t kNsPerSecond = 1'000'000'000;
constexpr std::uint64_t kWireOverhead = kTls13RecordOverhead;

struct Work {
  std::uint64_t bytes;   // everything the server sends on the connection, generously
  std::uint64_t writes;  // write submissions: each carries at least one record
  std::uint64_t reads;   // peer reads: one per arrival at most, plus one per read chunk
};

Work work_of(const Scenario& s, std::uint32_t connection) {
  const std::uint64_t n = s.requests_of(connection);
  // Per response: the body in full frames and records, headers, trailers and the echoed digest.
  const std::uint64_t per_response =
      s.workload.body.max + s.workload.body.max / kMaxFramePayload * 40 + 4096;
  Work w{};
  w.bytes = n * per_response + kMaxRecordPlaintext;  // the handshake, SETTINGS, PINGs, GOAWAY
  w.writes = w.bytes / kWireOverhead + 4 * n + 64;
  w.reads = w.writes + w.bytes / std::max<std::uint64_t>(1, s.link.read_chunk.min);
  return w;
}

std::uint64_t window_wait(const Scenario& s, const Work& w) {
  const auto& p = s.peer;
  const std::uint64_t tick = p.window_delay_ns.max;
  if (p.window == sim::WindowPolicy::Stingy) {
    return (w.bytes / std::max<std::uint32_t>(1, p.stingy_increment) + 1) * tick;
  }
  if (p.window == sim::WindowPolicy::Withheld) {
    // Each tick releases the credit with odds 1/2: 64 ticks in a row without a release happen
    // with probability 2^-64 per credit.
    const std::uint64_t window = std::min<std::uint64_t>(p.initial_window, p.connection_window);
    return (w.bytes / std::max<std::uint64_t>(1, window) + s.requests_of(0) + 1) * 64 * tick;
  }
  return 0;
}

std::uint64_t producer_wait(const Scenario& s, std::uint64_t n) {
  const auto& w = s.workload;
  const std::uint64_t chunks = w.body.max / std::max<std::uint64_t>(1, w.stream_chunk.min) + 2;
  return n *
         (w.handler_delay_ns.max + (w.kinds.streaming > 0 ? chunks * w.stream_interval_ns.max : 0));
}

}  // namespace

std::uint64_t liveness_bound_ns(const Scenario& s, std::uint32_t connection) {
  const Work w = work_of(s, connection);
  const auto& l = s.link;
  const std::uint64_t pause = s.link.pause_permille > 0 ? l.pause_ns.max : 0;
  const std::uint64_t per_step =
      l.write_delay_ns.max + l.read_delay_ns.max + pause + 2 * l.latency_ns.max;
  const std::uint64_t transfer = l.bandwidth > 0 ? w.bytes * kNsPerSecond / l.bandwidth + 1 : 0;
  const std::uint64_t serial = (w.writes + w.reads) * per_step + transfer + window_wait(s, w) +
                               producer_wait(s, s.requests_of(connection));
  return 2 * serial + 1'000'000;
}

std::uint64_t event_bound(const Scenario& s) {
  std::uint64_t events = 100000;
  for (std::uint32_t c = 0; c < s.workload.connections; ++c) {
    const Work w = work_of(s, c);
    events +=
        50 * (w.writes + w.reads) +
        20 * s.requests_of(c) *
            (s.workload.body.max / std::max<std::uint64_t>(1, s.workload.stream_chunk.min) + 2);
  }
  return events;
}

std::optional<Finding> check_run(const RunResult& run, const sim::CountingAllocator& counting,
                                 const std::optional<Finding>& step) {
  return first_of({
      [&] { return core_violations(run); },
      [&] { return step; },
      [&] { return run_failure(run); },
      [&] { return streams(run); },
      [&] { return liveness(run); },
      [&] { return connection_ends(run); },
      [&] { return allocator_clean(run, counting); },
      [&] { return a1_growth(run); },
      [&] { return nghttp2_counted(run, counting); },
  });
}

}  // namespace emitlab::check
