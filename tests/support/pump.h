// A one-connection test pump: the real ServerConnection against SimPeer with a handler and a
// per-step hook supplied by the test (producers of streaming bodies, aborts, ...). Completions
// arrive one step after their submission.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/server_connection.h"
#include "sim/deterministic_tls.h"
#include "sim/sim_peer.h"
#include "sim/workload.h"

namespace emitlab::testing {

// The id of a request for /r/<id> (the simulated peer's paths); 0 for any other path.
inline std::uint64_t request_id(const ServerStream& st) {
  return sim::Workload::request_id_from_path(st.request).value_or(0);
}

class Pump final : public Transport, public RequestHandler {
 public:
  using OnRequest = std::function<void(ServerConnection&, ServerStream&)>;
  using OnStep = std::function<void(ServerConnection&)>;

  Pump(const ConnectionConfig& config, sim::PeerConfig peer_config, OnRequest on_request,
       std::uint64_t seed = 3, Allocator& allocator = system_allocator())
      : tls_(seed),
        peer_(tls_.client_ctx(), std::move(peer_config)),
        on_request_(std::move(on_request)),
        conn_(tls_.server_ctx(), config, *this, *this, allocator) {}

  // Runs until nothing moves; shuts the server down once the peer is done.
  void run(const OnStep& on_step = {}, int max_steps = 1'000'000) {
    peer_.start();
    bool shutdown = false;
    for (int step = 0; step < max_steps; ++step) {
      bool progress = false;
      if (auto out = peer_.take_outbound(); !out.empty()) {
        conn_.on_ciphertext(out);
        progress = true;
      }
      if (!pending_.empty()) {
        const auto span = std::exchange(pending_, {});
        peer_.on_wire(span);
        conn_.on_write_complete(span.size());
        progress = true;
      }
      if (on_step) on_step(conn_);
      progress = progress || !pending_.empty();  // the step's producer may have started a write
      if (peer_.done() && !shutdown && !conn_.failed()) {
        conn_.shutdown();
        shutdown = progress = true;
      }
      if (conn_.failed() || (!progress && !producing_)) break;
      steps_ = step;
    }
  }

  void submit(std::span<const std::uint8_t> ciphertext) override { pending_ = ciphertext; }
  void on_request(ServerConnection& conn, ServerStream& stream) override {
    on_request_(conn, stream);
  }
  // A producer that still has work keeps the pump going even when nothing moved this step.
  void set_producing(bool producing) { producing_ = producing; }

  ServerConnection& conn() { return conn_; }
  sim::SimPeer& peer() { return peer_; }

 private:
  sim::DeterministicTls tls_;
  sim::SimPeer peer_;
  OnRequest on_request_;
  ServerConnection conn_;
  std::span<const std::uint8_t> pending_;
  bool producing_ = false;
  int steps_ = 0;
};

}  // namespace emitlab::testing
