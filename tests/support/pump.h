// A one-connection test pump: the real ServerConnection against SimPeer over the simulated link
// (sim/sim_link.h), with a handler and a per-step hook supplied by the test (producers of
// streaming bodies, aborts, ...). Completions arrive one step after their submission.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/server_connection.h"
#include "sim/body_pattern.h"
#include "sim/deterministic_tls.h"
#include "sim/sim_link.h"
#include "sim/sim_peer.h"
#include "sim/workload.h"

namespace emitlab::testing {

// The id of a request for /r/<id> (the simulated peer's paths); 0 for any other path.
inline std::uint64_t request_id(const ServerStream& st) {
  return sim::Workload::request_id_from_path(st.request).value_or(0);
}

class Pump final : public RequestHandler {
 public:
  using OnRequest = std::function<void(ServerConnection&, ServerStream&)>;
  using OnStep = std::function<void(ServerConnection&)>;

  Pump(const ConnectionConfig& config, sim::PeerConfig peer_config, OnRequest on_request,
       std::uint64_t seed = 3, Allocator& allocator = system_allocator())
      : tls_(seed),
        peer_(tls_.client_ctx(), std::move(peer_config)),
        on_request_(std::move(on_request)),
        conn_(tls_.server_ctx(), config, link_, *this, allocator) {}

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
      if (!link_.inflight().empty()) {
        const auto span = link_.take();
        peer_.on_wire(span);
        conn_.on_write_complete(span.size());
        progress = true;
      }
      if (on_step) on_step(conn_);
      // The step's producer may have started a write.
      progress = progress || !link_.inflight().empty();
      if (peer_.done() && !shutdown && !conn_.failed()) {
        conn_.shutdown();
        shutdown = progress = true;
      }
      if (conn_.failed() || (!progress && !producing_)) break;
    }
  }

  void on_request(ServerConnection& conn, ServerStream& stream) override {
    on_request_(conn, stream);
  }
  // A producer that still has work keeps the pump going even when nothing moved this step.
  void set_producing(bool producing) { producing_ = producing; }

  ServerConnection& conn() { return conn_; }
  sim::SimPeer& peer() { return peer_; }
  const sim::SimLink& link() const { return link_; }

 private:
  sim::DeterministicTls tls_;
  sim::SimPeer peer_;
  OnRequest on_request_;
  sim::SimLink link_;  // before conn_, which holds it as its Transport
  ServerConnection conn_;
  bool producing_ = false;
};

// Buffered bodies of sim::make_body(seed, id, size(id)) bytes and no extra headers: the peer's
// expectation and the handler that serves them, as most pump tests use them.
using BodySize = std::function<std::size_t(std::uint64_t request_id)>;

inline BodySize fixed_size(std::size_t n) {
  return [n](std::uint64_t) { return n; };
}

inline sim::ExpectFn expect_bodies(std::uint64_t seed, BodySize size) {
  return [seed, size = std::move(size)](std::uint64_t id) {
    sim::ExpectedResponse r;
    r.body = sim::make_body(seed, id, size(id));
    return r;
  };
}

inline Pump::OnRequest serve_bodies(std::uint64_t seed, BodySize size,
                                    Allocator& allocator = system_allocator()) {
  return [seed, size = std::move(size), &allocator](ServerConnection& conn, ServerStream& st) {
    const auto id = request_id(st);
    ResponseObject::Spec spec;
    spec.body_size = size(id);
    auto fill = [seed, id](std::span<std::uint8_t> out) { sim::fill_body(seed, id, 0, out); };
    conn.submit_response(st.id,
                         ResponseRef(ResponseObject::create(allocator, std::move(spec), fill)));
  };
}

}  // namespace emitlab::testing
