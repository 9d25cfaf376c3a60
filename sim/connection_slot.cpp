#include "sim/connection_slot.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "sim/counting_allocator.h"
#include "sim/openssl_mem.h"
#include "sim/prng.h"

namespace emitlab::sim {
namespace {

constexpr std::uint64_t kNsPerSecond = 1'000'000'000;

PeerWindow peer_window(WindowPolicy p) {
  switch (p) {
    case WindowPolicy::Wide:
      return PeerWindow::Wide;
    case WindowPolicy::Eager:
      return PeerWindow::Eager;
    case WindowPolicy::Half:
      return PeerWindow::Half;
    case WindowPolicy::Stingy:
      return PeerWindow::Stingy;
    case WindowPolicy::Withheld:
      return PeerWindow::Withheld;
  }
  return PeerWindow::Wide;
}

ConnectionConfig server_config(const Scenario& s, const EmitterFactory& factory,
                               bool keep_history) {
  ConnectionConfig c;
  c.strategy = s.strategy;
  c.emitter_factory = factory;
  c.mutant = s.mutant;
  // Results, traces and properties read every record; without keep_history the world's
  // RunStats sees each as it ends, and the last one (state_digest) is all the slot reads.
  c.pass_history = keep_history ? kKeepAllPasses : 1;
  c.rings.cipher_out_records = s.rings.cipher_out_records;
  c.rings.plaintext_ring = s.rings.plaintext;
  c.rings.cipher_in_ring = s.rings.cipher_in;
  return c;
}

// The peer of one connection, as the scenario describes it.
PeerConfig peer_config(WorldContext& world, std::uint64_t first_request_id, std::uint32_t requests,
                       std::function<void(const FrameInfo&, bool outbound)> on_frame) {
  const Scenario& s = world.scenario;
  PeerConfig p;
  p.requests = requests;
  p.batch = s.workload.concurrency;
  p.pacing = s.workload.pacing == Pacing::Lockstep ? PeerPacing::Lockstep : PeerPacing::ClosedLoop;
  p.first_request_id = first_request_id;
  const Workload* workload = &world.workload;
  p.expect = [workload](std::uint64_t id) { return workload->expected(id); };
  p.request = [workload](std::uint64_t id) { return workload->request(id); };
  p.window = peer_window(s.peer.window);
  p.initial_window = s.peer.initial_window;
  p.connection_window = s.peer.connection_window;
  p.empty_data_frames = s.peer.empty_data_frames;
  p.floods = s.peer.floods();
  p.keep_bytes = world.keep_bytes;
  p.keep_bodies = world.keep_bodies;
  p.keep_history = world.keep_history;
  RunStats* stats = &world.stats;
  p.on_stream_done = [stats](const StreamResult& r) { stats->on_stream_done(r); };
  const Scheduler* clock = &world.scheduler;
  p.clock = [clock] { return clock->now(); };
  if (!world.observers.empty()) p.on_frame = std::move(on_frame);
  return p;
}

}  // namespace

ConnectionSlot::ConnectionSlot(WorldContext& world, std::uint32_t index,
                               std::uint64_t first_request_id, std::uint32_t requests)
    : w_(world),
      index_(index),
      requests_(requests),
      peer_(world.tls.client_ctx(), peer_config(world, first_request_id, requests,
                                                [this](const FrameInfo& f, bool outbound) {
                                                  notify([&](WorldObserver& o) {
                                                    o.on_frame(w_.scheduler.now(), index_, f,
                                                               outbound);
                                                  });
                                                })),
      calls_(world.counting, index),
      link_({.buffer = world.scenario.link.buffer, .hash = false, .listener = this}),
      handler_(world, index, calls_),
      faults_(world, index, peer_) {
  w_.scheduler.at(0, {EventKind::Start, index_, 0});
}

ConnectionSlot::~ConnectionSlot() {
  close_server();
}

void ConnectionSlot::close_server() {
  if (!server_) return;
  if (!aborted_) {
    notify([&](WorldObserver& o) { o.on_connection_end(w_.scheduler.now(), index_, false); });
  }
  const auto openssl_scope = charge_openssl();
  passes_ = server_->passes();
  totals_ = server_->totals();
  violations_ = server_->violations();
  latch_counter_at_close_ = server_->large_streams_pending();
  latched_open_at_close_ = server_->session().latched_open_streams();
  open_streams_at_close_ = static_cast<std::uint32_t>(server_->session().open_streams());
  // An abort fails the server with "transport closed" by design; abort() kept any earlier cause.
  if (!aborted_) server_failure_ = server_failed_text();
  handler_.attach(nullptr);
  server_.reset();
}

std::string ConnectionSlot::server_failed_text() const {
  if (!server_ || !server_->failed()) return {};
  return "server connection failed: " + server_->error();
}

template <class F>
void ConnectionSlot::notify(F&& f) {
  for (WorldObserver* o : w_.observers) f(*o);
}

// ---------------------------------------------------------------------------------------------
// Events

void ConnectionSlot::handle(const Event& e) {
  switch (e.kind) {
    case EventKind::Start:
      start();
      break;
    case EventKind::DeliverToServer:
      deliver(false);
      break;
    case EventKind::WriteComplete:
      try_complete();
      break;
    case EventKind::PeerRead:
      peer_read();
      break;
    case EventKind::WindowTick:
      window_tick();
      break;
    case EventKind::HandlerRespond:
      handler_.respond_delayed(e.stream);
      break;
    case EventKind::StreamChunk:
      handler_.produce_chunk(e.stream);
      break;
  }
  settle();
  report_progress();
}

void ConnectionSlot::report_progress() {
  if (w_.progress == nullptr) return;
  const std::uint64_t n = peer_.responses_completed() + peer_.responses_cancelled();
  if (n <= progress_reported_) return;
  w_.progress->fetch_add(n - progress_reported_, std::memory_order_relaxed);
  progress_reported_ = n;
}

void ConnectionSlot::start() {
  notify([&](WorldObserver& o) { o.on_connection_start(w_.scheduler.now(), index_); });
  try {
    const auto openssl_scope = charge_openssl();
    server_ = std::make_unique<ServerConnection>(
        w_.tls.server_ctx(), server_config(w_.scenario, w_.emitter_factory, w_.keep_history), link_,
        handler_, w_.counting.port(index_));
  } catch (const std::exception& ex) {
    server_failure_ = std::string("server connection could not be set up: ") + ex.what();
    return;
  }
  handler_.attach(server_.get());
  server_->set_pass_begin_observer([this](std::uint64_t pass) { on_pass_begin(pass); });
  server_->set_pass_observer([this](const PassRecord& r) { on_pass(r); });
  peer_.start();
  flush_peer();
}

// Once the peer has every response (or gave up), the server says goodbye: GOAWAY, then
// close_notify after its last frame.
void ConnectionSlot::settle() {
  if (!alive() || shutdown_sent_ || !peer_.done() || server_->failed()) return;
  shutdown_sent_ = true;
  const auto openssl_scope = charge_openssl();
  server_->shutdown();
}

// ---------------------------------------------------------------------------------------------
// Server side

// Core calls this right after it opened the pass's record, before the pass does anything.
void ConnectionSlot::on_pass_begin(std::uint64_t pass) {
  calls_.begin_pass(pass);
  notify([&](WorldObserver& o) { o.on_pass_begin(w_.scheduler.now(), index_, pass); });
}

void ConnectionSlot::on_pass(const PassRecord& record) {
  calls_.end_pass();  // what follows (observers, client input) is not the pass's work
  w_.stats.on_pass(record);
  notify([&](WorldObserver& o) { o.on_pass_end(w_.scheduler.now(), index_, record); });
  // Client input that has arrived may reach the server between any two passes, including two
  // passes chained by synchronous completions.
  if (link_.to_server().arrived(w_.scheduler.now()) > 0 &&
      w_.chooser.chance(Decision::InputAfterPass, w_.scenario.peer.input_after_pass_permille)) {
    deliver(true);
  }
}

void ConnectionSlot::deliver(bool after_pass) {
  if (!alive()) return;
  ByteQueue& to_server = link_.to_server();
  const auto bytes = to_server.take(w_.scheduler.now(), to_server.size());
  if (bytes.empty()) return;  // an earlier delivery at this instant took it
  notify([&](WorldObserver& o) {
    o.on_deliver(w_.scheduler.now(), index_, bytes.size(), after_pass);
  });
  const auto openssl_scope = charge_openssl();
  server_->on_ciphertext(bytes);
}

// ---------------------------------------------------------------------------------------------
// The link, server to peer

void ConnectionSlot::on_submit(std::span<const std::uint8_t> ciphertext) {
  const auto& link = w_.scenario.link;
  const bool sync = link.completions == CompletionMode::Sync ||
                    (link.completions == CompletionMode::Mixed &&
                     w_.chooser.chance(Decision::CompletionSync, link.sync_permille));
  notify([&](WorldObserver& o) {
    o.on_write_submit(w_.scheduler.now(), index_, ciphertext.size(), sync);
  });
  if (sync && link_.has_room(ciphertext.size())) return complete_write();  // inside the submit
  std::uint64_t delay = w_.chooser.between(Decision::WriteDelay, link.write_delay_ns);
  if (link.bandwidth > 0) delay += ciphertext.size() * kNsPerSecond / link.bandwidth;
  w_.scheduler.after(delay, {EventKind::WriteComplete, index_, 0});
}

void ConnectionSlot::try_complete() {
  if (!alive() || link_.inflight().empty()) return;
  if (!link_.has_room(link_.inflight().size())) {
    link_.set_blocked();  // the peer's next read makes room
    return;
  }
  const auto openssl_scope = charge_openssl();
  complete_write();
}

void ConnectionSlot::complete_write() {
  const auto bytes = link_.take();
  const std::uint64_t now = w_.scheduler.now();
  const std::uint64_t arrival = link_.to_peer().push(
      now + w_.chooser.between(Decision::Latency, w_.scenario.link.latency_ns), bytes);
  notify([&](WorldObserver& o) { o.on_write_complete(now, index_, bytes); });
  wake_reader(arrival);
  server_->on_write_complete(bytes.size());
}

// ---------------------------------------------------------------------------------------------
// The peer

void ConnectionSlot::wake_reader(std::uint64_t arrival) {
  if (read_scheduled_ || aborted_) return;
  read_scheduled_ = true;
  const std::uint64_t delay =
      w_.chooser.between(Decision::ReadDelay, w_.scenario.link.read_delay_ns);
  w_.scheduler.at(std::max(arrival, w_.scheduler.now()) + delay, {EventKind::PeerRead, index_, 0});
}

void ConnectionSlot::peer_read() {
  read_scheduled_ = false;
  if (aborted_) return;
  const std::uint64_t now = w_.scheduler.now();
  ByteQueue& to_peer = link_.to_peer();
  if (to_peer.arrived(now) == 0) {
    if (auto next = to_peer.next_arrival()) wake_reader(*next);
    return;
  }
  const auto& link = w_.scenario.link;
  const auto bytes = to_peer.take(now, w_.chooser.between(Decision::ReadChunk, link.read_chunk));
  notify([&](WorldObserver& o) { o.on_peer_read(now, index_, bytes.size(), to_peer.size()); });
  peer_.on_wire(bytes);
  if (faults_.after_read()) abort();
  if (aborted_) return;
  flush_peer();
  if (link_.blocked() && link_.has_room(link_.inflight().size()) && alive()) {
    const auto openssl_scope = charge_openssl();
    complete_write();
  }
  if (to_peer.empty() || read_scheduled_) return;
  // Reading on, after a pause if the peer takes one; backpressure builds meanwhile.
  if (w_.chooser.chance(Decision::ReadPause, link.pause_permille)) {
    read_scheduled_ = true;
    w_.scheduler.after(w_.chooser.between(Decision::PauseLength, link.pause_ns),
                       {EventKind::PeerRead, index_, 0});
    return;
  }
  wake_reader(*to_peer.next_arrival());
}

void ConnectionSlot::window_tick() {
  if (!faults_.window_tick()) return;
  flush_peer();
  faults_.ensure_window_tick();
}

void ConnectionSlot::flush_peer() {
  if (aborted_) return;
  const auto out = peer_.take_outbound();
  if (out.empty()) return;
  const std::uint64_t now = w_.scheduler.now();
  notify([&](WorldObserver& o) { o.on_client_flush(now, index_, out); });
  const std::uint64_t arrival = link_.to_server().push(
      now + w_.chooser.between(Decision::Latency, w_.scenario.link.latency_ns), out);
  w_.scheduler.at(arrival, {EventKind::DeliverToServer, index_, 0});
}

// The peer drops the connection: no close_notify, nothing more either way. The server is told
// its transport died (as a server learns from EPIPE or a reset): it cancels its open streams
// and releases what they held while its counts are still read.
void ConnectionSlot::abort() {
  if (server_) {
    server_failure_ = server_failed_text();
    const auto openssl_scope = charge_openssl();
    server_->on_transport_closed("the peer dropped the connection");
  }
  aborted_ = true;
  faults_.stop();
  peer_.abort();
  notify([&](WorldObserver& o) { o.on_connection_end(w_.scheduler.now(), index_, true); });
  link_.drop();
  handler_.drop_pending();
  close_server();
}

// ---------------------------------------------------------------------------------------------

ConnectionResult ConnectionSlot::result() const {
  ConnectionResult r;
  r.index = index_;
  r.requests = requests_;
  r.aborted = aborted_;
  r.responses_verified = peer_.responses_verified();
  r.responses_failed = peer_.responses_failed();
  r.responses_cancelled = peer_.responses_cancelled();
  if (!peer_.done()) r.responses_failed = requests_ - r.responses_verified - r.responses_cancelled;
  const std::string server_failed = server_failed_text();
  r.verdict = peer_.verdict();
  if (r.verdict == PeerVerdict::Completed && !peer_.done()) r.verdict = PeerVerdict::Stalled;
  if (r.verdict == PeerVerdict::Defended) {
    // The flood's name and limit come from the server; the peer saw only the GOAWAY.
    std::string why = !server_failure_.empty() ? server_failure_ : server_failed;
    constexpr std::string_view kPrefix = "server connection failed: ";
    if (why.starts_with(kPrefix)) why.erase(0, kPrefix.size());
    r.failure = "server defended itself: " + (why.empty() ? "GOAWAY ENHANCE_YOUR_CALM" : why);
  } else if (!server_failure_.empty()) {
    r.failure = server_failure_;
  } else if (!server_failed.empty()) {
    r.failure = server_failed;
  } else if (peer_.failed()) {
    r.failure = "peer: " + peer_.failure();
  } else if (!peer_.done()) {
    r.stalled = true;
    r.failure =
        "stalled: the world settled with " +
        std::to_string(requests_ - peer_.responses_completed() - peer_.responses_cancelled()) +
        " requests unfinished and " + std::to_string(peer_.pings_outstanding()) +
        " PINGs unanswered";
  }
  r.passes = server_ ? server_->passes() : passes_;
  r.totals = server_ ? server_->totals() : totals_;
  r.wire_digest = peer_.wire_digest();
  r.app_digest = peer_.app_digest();
  r.wire_bytes = peer_.wire_bytes();
  r.app_bytes = peer_.app_bytes();
  r.wire = peer_.wire();
  r.app = peer_.app_stream();
  r.records = peer_.records();
  r.frames = peer_.frames();
  r.streams.reserve(peer_.streams().size());
  for (const auto& [id, s] : peer_.streams()) r.streams.push_back(s);
  r.close_notify_is_last = peer_.close_notify_is_last();
  r.pings_sent = peer_.pings_sent();
  r.pings_acked = peer_.pings_acked();
  r.window_updates = peer_.window_updates_sent();
  r.violations = server_ ? server_->violations() : violations_;
  r.latch_counter_at_close = server_ ? server_->large_streams_pending() : latch_counter_at_close_;
  r.latched_open_at_close =
      server_ ? server_->session().latched_open_streams() : latched_open_at_close_;
  r.open_streams_at_close = server_ ? static_cast<std::uint32_t>(server_->session().open_streams())
                                    : open_streams_at_close_;
  return r;
}

bool ConnectionSlot::handshaking() const {
  return server_ != nullptr && server_->tls().state() == TlsConnection::State::Handshake;
}

// Everything of this connection the rest of a run depends on, at a point where no server call
// is on the stack: the server's TLS state, rings and write in flight; its session's streams,
// windows and nghttp2 queue; hybrid's latch and the pins the last pass left; the counters the
// end-of-run rules compare (records made and parsed, references taken and released); the link
// in both directions with arrivals relative to now; the peer (SimPeer::state_digest); and the
// slot's own bookkeeping. Absolute virtual time and pass numbers are left out.
std::uint64_t ConnectionSlot::state_digest(std::uint64_t now) const {
  std::uint64_t h = mix64(index_);
  auto add = [&h](std::uint64_t v) { h = mix_all(h, v); };
  add(aborted_);
  add(shutdown_sent_);
  add(link_.blocked());
  add(read_scheduled_);
  add(faults_.window_tick_scheduled());
  add(faults_.goaway_seen_completed());
  add(link_.inflight().size());
  add(digest_bytes(link_.inflight()));
  add(link_.to_peer().digest(now));
  add(link_.to_server().digest(now));
  add(peer_.state_digest());
  handler_.digest(add);
  add(server_ != nullptr);
  if (!server_) return h;
  ServerConnection& server = *server_;
  TlsConnection& tls = server.tls();
  add(static_cast<std::uint64_t>(tls.state()));
  add(tls.inflight_bytes());
  add(tls.plaintext_pending());
  add(tls.ignored_after_close());
  add(server.failed());
  add(server.violations().size());
  if (SSL* ssl = tls.ssl()) {
    add(BIO_ctrl_wpending(SSL_get_wbio(ssl)));  // cipher-out occupancy
    add(BIO_ctrl_pending(SSL_get_rbio(ssl)));   // cipher-in occupancy
    add(static_cast<std::uint64_t>(SSL_pending(ssl)));
  }
  add(server.large_streams_pending());
  const PassRecord totals = server.totals();
  add(totals.tls_records - std::min<std::uint64_t>(totals.tls_records, peer_.record_count()));
  add(totals.ref_retains - totals.ref_releases);
  if (!server.passes().empty()) {
    const PassRecord& last = server.passes().back();
    add(last.drain_slice_parked);
    add(last.gather_frame_deferred);
    add(static_cast<std::uint64_t>(last.kind));
  }
  if (server.config().strategy.reuse_scratch) {  // A1's growth rule reads every pass so far
    std::uint64_t busiest = 0, allocs = 0;
    for (const auto& p : server.passes()) {
      busiest = std::max<std::uint64_t>(busiest, p.gather_entries);
      allocs += p.emitter_allocs();
    }
    add(busiest);
    add(allocs);
  }
  H2ServerSession& session = server.session();
  add(session.open_streams());
  add(session.latched_open_streams());
  add(session.want_write());
  add(session.want_read());
  if (nghttp2_session* ng = session.raw()) {
    add(static_cast<std::uint64_t>(nghttp2_session_get_remote_window_size(ng)));
    add(static_cast<std::uint64_t>(nghttp2_session_get_local_window_size(ng)));
    add(nghttp2_session_get_outbound_queue_size(ng));
    for (const auto& [id, result] : peer_.streams()) {
      ServerStream* st = session.find(id);
      add(st != nullptr);
      if (st == nullptr) continue;
      add(st->body_offset);
      add(st->responded);
      add(st->trailers_submitted);
      add(st->counted_large);
      add(st->emitter_ref_taken);
      add(st->streaming);
      add(st->body_ended);
      add(st->deferred);
      add(st->chunks.size());
      add(st->chunk_offset);
      add(static_cast<std::uint64_t>(nghttp2_session_get_stream_remote_window_size(ng, id)));
      nghttp2_stream* ns = nghttp2_session_find_stream(ng, id);
      add(ns != nullptr ? static_cast<std::uint64_t>(nghttp2_stream_get_state(ns)) : 99);
    }
  }
  return h;
}

}  // namespace emitlab::sim
