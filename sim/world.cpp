#include "sim/world.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "core/response.h"
#include "sim/connection_slot.h"
#include "sim/counting_allocator.h"
#include "sim/deterministic_tls.h"
#include "sim/prng.h"
#include "sim/scheduler.h"

namespace emitlab::sim {
namespace {

// The port that pays for what belongs to the world rather than a connection (the shared body).
constexpr std::uint32_t kWorldPort = 0xFFFFFFFF;

struct SharedFree {
  void operator()(ResponseObject* p) const { ResponseObject::destroy_shared(p); }
};

RunConfig shorthand(const Scenario& s) {
  RunConfig c;
  c.strategy = s.strategy;
  c.streams = s.workload.requests;
  c.body_size = s.workload.body.min;
  c.seed = s.seed;
  c.cipher_ring_records = s.rings.cipher_out_records;
  c.plaintext_ring = s.rings.plaintext;
  c.completions =
      s.link.completions == CompletionMode::Sync ? Completions::Sync : Completions::NextStep;
  c.max_concurrency = s.workload.concurrency;
  return c;
}

std::string digest_of_digests(const std::vector<ConnectionResult>& cs, bool wire) {
  if (cs.size() == 1) return hex(wire ? cs[0].wire_digest : cs[0].app_digest);
  Sha256 h;
  for (const auto& c : cs) h.update(wire ? c.wire_digest : c.app_digest);
  return hex(h.digest());
}

class World final : private ChoiceContext {
 public:
  World(const Scenario& scenario, const RunOptions& options)
      : scenario_(scenario),
        options_(options),
        workload_(scenario_),
        own_counting_(options.counting ? nullptr
                                       : std::make_unique<CountingAllocator>(CountingConfig{
                                             .keep_pass_ledgers = options.keep_history})),
        counting_(options.counting ? *options.counting : *own_counting_),
        own_tls_(options.tls ? nullptr : std::make_unique<DeterministicTls>(scenario.seed)),
        tls_(options.tls ? *options.tls : *own_tls_),
        seeded_(scenario.seed),
        chooser_(options.choices ? *options.choices : seeded_, options.keep_choices),
        scheduler_(chooser_) {
    if (options.tls) tls_.reseed(scenario.seed);
    tls_.set_handshake(scenario.tls.handshake);  // a shared one may come from another scenario
    if (options.keylog || options.tls) tls_.set_keylog_sink(options.keylog);
    if (options.choices) options.choices->bind(this);
  }
  ~World() override {
    if (options_.choices) options_.choices->bind(nullptr);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  RunResult run() {
    RunResult result;
    result.scenario = scenario_;
    result.config = shorthand(scenario_);
    try {
      build();
      loop(result);
    } catch (const std::exception& e) {
      result.end = RunEnd::Stopped;
      result.failure = std::string("the world stopped: ") + e.what();
    }
    for (auto& slot : slots_) {
      if (slot) slot->close_server();
    }
    collect(result);
    slots_.clear();
    shared_.reset();
    count_allocations(result.allocations);
    return result;
  }

 private:
  void build() {
    if (scenario_.workload.kinds.shared > 0) {
      const Workload* w = &workload_;
      shared_.reset(ResponseObject::create_shared(
          counting_.port(kWorldPort), workload_.shared_spec(), [w](std::span<std::uint8_t> out) {
            ResponsePlan plan;
            plan.kind = ResponseKind::Shared;
            w->fill(0, plan, 0, out);
          }));
    }
    context_.emplace(WorldContext{scenario_, workload_, chooser_, scheduler_, tls_, counting_,
                                  shared_.get(), options_.observers, options_.keep_bytes,
                                  options_.keep_bodies, options_.keep_history, stats_,
                                  options_.emitter_factory, options_.progress});
    const std::uint32_t connections = scenario_.workload.connections;
    const std::uint32_t open = scenario_.workload.open_connections;
    open_at_once_ = open == 0 ? connections : std::min(open, connections);
    slots_.resize(connections);
    retired_.resize(connections);
    while (next_to_open_ < open_at_once_) open_next();
  }

  // Opens the next connection; its Start event joins the current instant.
  void open_next() {
    const std::uint32_t c = next_to_open_++;
    const std::uint32_t n = scenario_.requests_of(c);
    slots_[c] = std::make_unique<ConnectionSlot>(*context_, c, next_request_id_, n);
    next_request_id_ += n;
  }

  // A connection with no event pending is over: nothing drives it any more. A run without
  // history then keeps its result and frees the rest (server connection, peer, rings, TLS and
  // nghttp2 state), so memory is bounded by the connections open at once; and when
  // connections open in turn, the next one opens. With history, and all open at once, the
  // connection stays as it was until the run ends (its teardown then is where it always was).
  void after_event(std::uint32_t c) {
    if (scheduler_.pending_for(c) > 0 || !slots_[c]) return;
    const bool in_turn = open_at_once_ < scenario_.workload.connections;
    if (options_.keep_history && !in_turn) return;
    if (options_.keep_history) {
      slots_[c]->close_server();  // kept whole for collect()
    } else {
      slots_[c]->close_server();
      retired_[c] = slots_[c]->result();
      slots_[c].reset();
    }
    if (next_to_open_ < scenario_.workload.connections) open_next();
  }

  void loop(RunResult& result) {
    while (auto e = scheduler_.next()) {
      if (scheduler_.events_run() > options_.max_events) {
        result.end = RunEnd::EventLimit;
        result.failure =
            "the world did not settle within " + std::to_string(options_.max_events) + " events";
        return;
      }
      current_ = e->connection;
      if (options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed)) {
        result.interrupted = true;
        result.end = RunEnd::Interrupted;
        result.failure = "interrupted after " + std::to_string(scheduler_.events_run() - 1) +
                         " events, at virtual time " + std::to_string(scheduler_.now()) + " ns";
        return;
      }
      slots_[e->connection]->handle(*e);
      current_ = kNoConnection;
      // Between events, never inside a pass: the connection the event ran on (the only one it
      // can change) checks its invariants, as state_digest() checks every one it hashes.
      check_valid(e->connection);
      if (!invalid_.empty()) {
        result.end = RunEnd::CoreInvalid;
        result.failure = invalid_;
        return;
      }
      after_event(e->connection);
      if (chooser_.diverged()) {
        result.replay_diverged = true;
        result.end = RunEnd::ReplayDiverged;
        result.failure = "replay diverged: " + chooser_.divergence();
        return;
      }
    }
  }

  // ChoiceContext
  void pending_offsets(std::vector<std::uint64_t>& out) const override {
    out.clear();
    for (const auto& [t, events] : scheduler_.pending_events()) {
      if (!events.empty()) out.push_back(t - scheduler_.now());
    }
  }
  bool handshaking() const override {
    return current_ < slots_.size() && slots_[current_] && slots_[current_]->handshaking();
  }
  // Pruning points (sim/explore.h): labels asked at one place each in the world's code, outside
  // any server call, so the state below (and the label) fixes how the run goes on.
  static bool one_site_outside_server(Decision label) {
    switch (label) {
      case Decision::ReadyEvent:
      case Decision::ReadChunk:
      case Decision::ReadPause:
      case Decision::PauseLength:
      case Decision::AbruptClose:
      case Decision::Ping:
      case Decision::Reset:
      case Decision::ResetWhich:
      case Decision::WindowRelease:
        return true;
      default:
        return false;
    }
  }
  bool state_digest(Decision label, std::uint64_t& out) const override {
    if (!one_site_outside_server(label)) return false;
    std::uint64_t h = mix_all(static_cast<std::uint64_t>(label), current_);
    for (std::uint32_t c = 0; c < slots_.size(); ++c) {
      if (!slots_[c]) continue;  // not open yet, or over and let go (kept out: it cannot change)
      if (slots_[c]->in_server_call()) return false;
      check_valid(c);
      h = mix_all(h, slots_[c]->state_digest(scheduler_.now()));
    }
    for (const auto& [t, events] : scheduler_.pending_events()) {
      h = mix_all(h, t - scheduler_.now());
      for (const Event& e : events) {
        h = mix_all(mix_all(h, static_cast<std::uint64_t>(e.kind) << 32 | e.connection),
                    static_cast<std::uint64_t>(e.stream));
      }
    }
    out = h;
    return true;
  }

  void collect(RunResult& r) {
    const std::string run_failure = r.failure;
    r.stats = stats_;
    r.choices = chooser_.record();
    r.events = scheduler_.events_run();
    r.virtual_ns = scheduler_.now();
    r.close_notify_is_last = !slots_.empty();
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      ConnectionResult c = slots_[i]     ? slots_[i]->result()
                           : retired_[i] ? std::move(*retired_[i])
                                         : never_opened(i);
      r.responses_verified += c.responses_verified;
      r.responses_failed += c.responses_failed;
      r.responses_cancelled += c.responses_cancelled;
      if (!c.failure.empty()) {
        ++r.connections_failed;
        if (r.failure.empty()) {
          r.failure = slots_.size() == 1
                          ? c.failure
                          : "connection " + std::to_string(c.index) + ": " + c.failure;
        }
      }
      r.passes.insert(r.passes.end(), c.passes.begin(), c.passes.end());
      r.totals += c.totals;
      r.wire.insert(r.wire.end(), c.wire.begin(), c.wire.end());
      r.app.insert(r.app.end(), c.app.begin(), c.app.end());
      r.records.insert(r.records.end(), c.records.begin(), c.records.end());
      r.frames.insert(r.frames.end(), c.frames.begin(), c.frames.end());
      r.streams.insert(r.streams.end(), c.streams.begin(), c.streams.end());
      if (!c.aborted) r.close_notify_is_last = r.close_notify_is_last && c.close_notify_is_last;
      r.connections.push_back(std::move(c));
    }
    if (!run_failure.empty()) r.failure = run_failure;  // the run's own cause comes first
  }

  // A connection whose turn never came: the run stopped first (interrupted, diverged, or out of
  // events). Its requests count as failed, as those of a connection that stalled.
  ConnectionResult never_opened(std::uint32_t i) const {
    ConnectionResult c;
    c.index = i;
    c.requests = scenario_.requests_of(i);
    c.responses_failed = c.requests;
    c.verdict = PeerVerdict::Stalled;
    c.failure = "never opened: the run stopped before its turn";
    return c;
  }

  void count_allocations(AllocationFigures& a) const {
    a.counted = true;
    a.openssl_counted = counting_.openssl_counted();
    for (const auto& row : counting_.sites()) {
      a.by_owner[static_cast<std::size_t>(row.owner)] += row.counts.allocations;
    }
    a.violations = counting_.violation_count();
    for (const auto& leak : counting_.leaks()) {
      // OpenSSL may keep blocks in its contexts until they go; the ports' blocks must be gone.
      if (leak.owner != AllocOwner::OpenSsl) ++a.leaked_blocks;
    }
    if (auto f = counting_.injected_failure()) a.injected_failure = to_string(*f);
  }

  Scenario scenario_;
  RunOptions options_;
  Workload workload_;
  // Declaration order is teardown order reversed: the slots go first, then the shared body,
  // then the TLS contexts their SSLs came from, then the allocator everything was charged to.
  std::unique_ptr<CountingAllocator> own_counting_;
  CountingAllocator& counting_;
  std::unique_ptr<DeterministicTls> own_tls_;
  DeterministicTls& tls_;
  SeededChoices seeded_;
  Chooser chooser_;
  Scheduler scheduler_;
  std::unique_ptr<ResponseObject, SharedFree> shared_;
  RunStats stats_;
  std::optional<WorldContext> context_;
  std::vector<std::unique_ptr<ConnectionSlot>> slots_;    // null: not open yet, or let go
  std::vector<std::optional<ConnectionResult>> retired_;  // the results of those let go
  std::uint32_t open_at_once_ = 0;
  std::uint32_t next_to_open_ = 0;
  std::uint64_t next_request_id_ = 0;
  // Keeps the first broken invariant core's validate() reports, for the loop to stop on.
  // Not with a mutant armed: it breaks core's state on purpose, and the rule it is aimed at
  // (props_mutants) must be the one that reports it, not validate() an event earlier.
  void check_valid(std::uint32_t c) const {
    if (!invalid_.empty() || scenario_.mutant != Mutant::None || !slots_[c]) return;
    if (std::string why = slots_[c]->validate(); !why.empty()) {
      invalid_ = "connection " + std::to_string(c) + ": validate(): " + why;
    }
  }

  static constexpr std::uint32_t kNoConnection = 0xFFFFFFFF;
  std::uint32_t current_ = kNoConnection;  // the connection whose event is running
  mutable std::string invalid_;            // check_valid()'s first finding
};

}  // namespace

Scenario to_scenario(const RunConfig& config) {
  Scenario s;
  s.seed = config.seed;
  s.strategy = config.strategy;
  s.workload.connections = 1;
  s.workload.requests = std::max<std::uint32_t>(1, config.streams);
  s.workload.concurrency =
      std::clamp<std::uint32_t>(std::min(config.streams, config.max_concurrency), 1, 100);
  s.workload.pacing = Pacing::Lockstep;
  s.workload.body = {config.body_size, config.body_size};
  s.rings.cipher_out_records = static_cast<std::uint32_t>(config.cipher_ring_records);
  s.rings.plaintext = config.plaintext_ring;
  s.link.completions =
      config.completions == Completions::Sync ? CompletionMode::Sync : CompletionMode::Async;
  return s;
}

std::string RunResult::wire_sha256() const {
  return digest_of_digests(connections, true);
}
std::string RunResult::app_sha256() const {
  return digest_of_digests(connections, false);
}

bool RunResult::stalled() const {
  if (end != RunEnd::Settled) return false;
  for (const auto& c : connections) {
    if (!c.failure.empty()) return c.stalled;
  }
  return false;
}

RunResult run_world(const Scenario& scenario, const RunOptions& options) {
  if (std::string why = validate(scenario); !why.empty()) {
    RunResult r;
    r.scenario = scenario;
    r.end = RunEnd::Invalid;
    r.failure = why;
    return r;
  }
  return World(scenario, options).run();
}

RunResult run_world(const RunConfig& config) {
  return run_world(to_scenario(config));
}

}  // namespace emitlab::sim
