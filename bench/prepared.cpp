#include "bench/prepared.h"

#include <array>
#include <map>
#include <memory>

#include "bench/env.h"
#include "sim/counting_allocator.h"
#include "sim/sim_peer.h"

namespace emitlab::bench {
namespace {

constexpr int kMaxHandshakeSteps = 64;
constexpr std::uint64_t kMaxSteps = 100'000'000;

std::map<std::string, std::unique_ptr<Prepared>> g_cache;  // by plan name

// The verified run: the fleet against one SimPeer per connection, every delivery recorded.
class Recorder {
 public:
  Recorder(const Plan& plan, sim::CountingAllocator& counting)
      : plan_(plan),
        fleet_(
            plan, env().bodies(), env().server_tls().server_ctx(),
            [&counting](std::uint32_t i) -> Allocator& { return counting.port(i); }, true) {
    recording_.handshake.resize(plan.shape.connections);
    shutdown_sent_.resize(plan.shape.connections, 0);
    for (std::uint32_t i = 0; i < plan.shape.connections; ++i) {
      peers_.push_back(
          std::make_unique<sim::SimPeer>(env().client_tls().client_ctx(), peer_config(i)));
    }
  }

  std::string run();
  Recording take_recording() { return std::move(recording_); }
  Fleet& fleet() { return fleet_; }

 private:
  sim::PeerConfig peer_config(std::uint32_t i) const;
  bool handshake(std::uint32_t i);
  // One driver step of connection i; `may_shut`: shut the server down once its peer is done.
  bool step(std::uint32_t i, std::vector<Event>& out, bool may_shut);
  std::string check();

  const Plan& plan_;
  Fleet fleet_;
  std::vector<std::unique_ptr<sim::SimPeer>> peers_;
  std::vector<char> shutdown_sent_;
  Recording recording_;
};

sim::PeerConfig Recorder::peer_config(std::uint32_t i) const {
  sim::PeerConfig cfg;
  cfg.requests = plan_.requests_per_connection;
  cfg.batch = plan_.shape.streams;
  // h2load's pacing: a new request as soon as one completes, m streams open at most.
  cfg.pacing = sim::PeerPacing::ClosedLoop;
  cfg.first_request_id = std::uint64_t{i} * plan_.requests_per_connection;
  const BodyPool* bodies = &env().bodies();
  const std::size_t body = plan_.body;
  cfg.expect = [bodies, body](std::uint64_t id) { return bodies->expected(id, body); };
  cfg.keep_bytes = false;
  cfg.keep_bodies = false;
  return cfg;
}

// The peer's bytes in, then the write in flight completed (the peer reads it first).
bool Recorder::step(std::uint32_t i, std::vector<Event>& out, bool may_shut) {
  sim::SimPeer& peer = *peers_[i];
  ServerConnection& conn = fleet_.connection(i);
  bool progress = false;
  if (peer.has_outbound()) {
    const auto bytes = peer.take_outbound();
    out.push_back({EventKind::Feed, i, recording_.arena.size(), bytes.size()});
    recording_.arena.insert(recording_.arena.end(), bytes.begin(), bytes.end());
    conn.on_ciphertext(bytes);
    progress = true;
  }
  if (!fleet_.link(i).inflight().empty()) {
    const auto span = fleet_.link(i).take();
    out.push_back({EventKind::Complete, i, 0, span.size()});
    peer.on_wire(span);
    conn.on_write_complete(span.size());
    progress = true;
  }
  if (may_shut && shutdown_sent_[i] == 0 && peer.done() && !conn.failed()) {
    out.push_back({EventKind::Shutdown, i, 0, 0});
    conn.shutdown();
    shutdown_sent_[i] = 1;
    progress = true;
  }
  return progress;
}

// Until the server is established and the peer, having read the server's SETTINGS, is about
// to send its first requests: that send is the first event of the timed phase.
bool Recorder::handshake(std::uint32_t i) {
  peers_[i]->start();
  ServerConnection& conn = fleet_.connection(i);
  for (int s = 0; s < kMaxHandshakeSteps; ++s) {
    if (conn.tls().state() == TlsConnection::State::Established &&
        fleet_.link(i).inflight().empty() && peers_[i]->has_outbound()) {
      return true;
    }
    if (!step(i, recording_.handshake[i], false) || conn.failed()) return false;
  }
  return false;
}

std::string Recorder::run() {
  for (std::uint32_t i = 0; i < fleet_.size(); ++i) {
    if (!handshake(i)) return "connection " + std::to_string(i) + ": handshake did not complete";
  }
  fleet_.mark_all();
  // Round robin over the connections until nothing moves: every peer done, every server closed.
  for (std::uint64_t steps = 0;; ++steps) {
    if (steps == kMaxSteps) return "no end after " + std::to_string(kMaxSteps) + " steps";
    bool progress = false;
    for (std::uint32_t i = 0; i < fleet_.size(); ++i) {
      progress = step(i, recording_.requests, true) || progress;
    }
    if (!progress) break;
  }
  return check();
}

std::string Recorder::check() {
  if (auto h = fleet_.health(); !h.empty()) return h;
  for (std::uint32_t i = 0; i < fleet_.size(); ++i) {
    const sim::SimPeer& peer = *peers_[i];
    const std::string who = "connection " + std::to_string(i) + ": ";
    if (peer.failed()) return who + "peer: " + peer.failure();
    if (peer.responses_verified() != plan_.requests_per_connection) {
      return who + std::to_string(peer.responses_verified()) + " of " +
             std::to_string(plan_.requests_per_connection) + " responses verified";
    }
    if (!peer.close_notify_received()) return who + "no close_notify";
    const auto digest = fleet_.link(i).digest();
    if (!digest || *digest != peer.wire_digest()) {
      return who + "the peer read other bytes than sent";
    }
    recording_.wire.push_back(*digest);
  }
  return {};
}

std::array<std::uint64_t, kAllocOwners> port_allocs(const sim::CountingAllocator& counting,
                                                    std::uint32_t connections) {
  std::array<std::uint64_t, kAllocOwners> sum{};
  for (std::uint32_t i = 0; i < connections; ++i) {
    for (std::size_t o = 0; o < kAllocOwners; ++o) {
      if (static_cast<AllocOwner>(o) == AllocOwner::OpenSsl) continue;  // not through the port
      sum[o] += counting.for_owner(i, static_cast<AllocOwner>(o)).allocations;
    }
  }
  return sum;
}

// The verified run. Port allocations of the whole run are returned for the replay to match.
std::string record(Prepared& p, std::array<std::uint64_t, kAllocOwners>* allocs) {
  env().server_tls().reseed(kServerSeed);
  env().client_tls().reseed(kClientSeed);
  sim::CountingAllocator counting;  // outlives the recorder: ports must outlive their users
  {
    Recorder recorder(p.plan, counting);
    if (auto error = recorder.run(); !error.empty()) return "verified run: " + error;
    p.figures = recorder.fleet().figures();
    for (std::uint32_t i = 0; i < recorder.fleet().size(); ++i) {
      p.app_bytes.push_back(recorder.fleet().figures(i).work.bytes);
    }
    *allocs = port_allocs(counting, p.plan.shape.connections);
    p.recording = recorder.take_recording();
  }
  if (counting.violation_count() != 0) {
    return "verified run: " + sim::to_string(counting.violations().front());
  }
  for (const auto& leak : counting.leaks()) {
    if (leak.owner != AllocOwner::OpenSsl) return "verified run leaked: " + sim::to_string(leak);
  }
  return {};
}

// One replay with hashing on: same ciphertext, same figures, same port allocations.
std::string check_replay(Prepared& p, const std::array<std::uint64_t, kAllocOwners>& verified) {
  BenchAllocator port;
  std::string error;
  auto fleet = replay_handshakes(p.plan, p.recording, port, true, &error);
  if (!fleet) return error;
  AllocationMeter meter(port, false);
  meter.begin();
  if (!fleet->replay(p.recording, p.recording.requests)) return fleet->error();
  p.allocs = meter.end();
  if (auto h = fleet->health(); !h.empty()) return "replay: " + h;
  if (auto d = first_difference(fleet->figures(), p.figures); !d.empty()) {
    return "replay differs from the verified run: " + d;
  }
  for (std::uint32_t i = 0; i < fleet->size(); ++i) {
    if (fleet->link(i).digest() != p.recording.wire[i]) {
      return "replay: connection " + std::to_string(i) + " sent other ciphertext";
    }
  }
  for (std::size_t o = 0; o < kAllocOwners; ++o) {
    if (static_cast<AllocOwner>(o) == AllocOwner::OpenSsl) continue;
    if (port.counts().allocs[o] != verified[o]) {
      return "replay: " + std::string(to_string(static_cast<AllocOwner>(o))) +
             " allocations differ from the verified run";
    }
  }
  return {};
}

}  // namespace

std::unique_ptr<Fleet> replay_handshakes(const Plan& plan, const Recording& recording,
                                         BenchAllocator& port, bool hash, std::string* error) {
  env().server_tls().reseed(kServerSeed);
  auto fleet = std::make_unique<Fleet>(
      plan, env().bodies(), env().server_tls().server_ctx(),
      [&port](std::uint32_t) -> Allocator& { return port; }, hash);
  for (std::uint32_t i = 0; i < fleet->size(); ++i) {
    if (!fleet->replay(recording, recording.handshake[i]) ||
        fleet->connection(i).tls().state() != TlsConnection::State::Established) {
      *error = "replay: connection " + std::to_string(i) + " handshake: " + fleet->error();
      return nullptr;
    }
  }
  fleet->mark_all();
  return fleet;
}

const Prepared& prepare(const Plan& plan) {
  auto& slot = g_cache[plan.name()];
  if (slot) return *slot;
  slot = std::make_unique<Prepared>();
  slot->plan = plan;
  std::array<std::uint64_t, kAllocOwners> verified_allocs{};
  slot->error = record(*slot, &verified_allocs);
  if (slot->error.empty()) slot->error = check_replay(*slot, verified_allocs);
  return *slot;
}

void clear_prepared() {
  g_cache.clear();
}

}  // namespace emitlab::bench
