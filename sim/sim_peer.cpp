#include "sim/sim_peer.h"

#include "sim/prng.h"

#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "core/header_table.h"
#include "core/ssl_errors.h"

namespace emitlab::sim {
namespace {

// Large enough that one TLS flight or one 16 KiB record always fits; the peer drains its side
// after every SSL call, so the ring never has to hold more than one call's output.
constexpr long kRingSize = 64 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;  // one TLS record of plaintext at most
constexpr std::string_view kAlpnH2 = "h2";

std::string openssl_errors() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    if (!out.empty()) out += "; ";
    out += buf.data();
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

std::string ssl_error_text(int ssl_error) {
  switch (ssl_error) {
    case SSL_ERROR_SSL:
      return "SSL_ERROR_SSL: " + openssl_errors();
    case SSL_ERROR_SYSCALL:
      return "SSL_ERROR_SYSCALL: " + openssl_errors();
    default:
      return "SSL_get_error " + std::to_string(ssl_error) + ": " + openssl_errors();
  }
}

std::string h2_error_name(std::uint32_t code) {
  return std::string(nghttp2_http2_strerror(code)) + " (" + std::to_string(code) + ")";
}

// nghttp2_nv wants mutable pointers, but with NGHTTP2_NV_FLAG_NONE it copies name and value at
// submit time and never writes through them.
nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  auto* n = reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data()));
  auto* v = reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data()));
  return {n, v, name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

std::string_view as_view(const std::uint8_t* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

std::string authority_host(const std::string& authority) {
  return authority.substr(0, authority.rfind(':'));
}

}  // namespace

// A stream the peer opened and has not seen close (its window credit is in window_).
struct SimPeer::StreamState {
  ResponseVerifier verifier;
  bool cancelled_by_us = false;
  std::uint32_t empty_data_left = 0;  // empty DATA frames still to send before END_STREAM
};

// The request body of a flooding peer: empty DATA frames, then an empty one with END_STREAM.
ssize_t empty_request_body(nghttp2_session*, std::int32_t, std::uint8_t*, std::size_t,
                           std::uint32_t* flags, nghttp2_data_source* source, void*) {
  auto& left = *static_cast<std::uint32_t*>(source->ptr);
  if (left == 0) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  } else {
    --left;
  }
  return 0;
}

// Trampolines from the C callback tables into the peer. They only record and set flags: the
// peer never calls mem_send/mem_recv (or frees the session) from inside a callback.
struct PeerCallbacks {
  static NgCallbacksPtr make_table();
  static SimPeer& peer(void* user_data) { return *static_cast<SimPeer*>(user_data); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    if (frame->hd.type == NGHTTP2_HEADERS) peer(ud).begin_header_block(frame->hd.stream_id);
    return 0;
  }
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* ud) {
    peer(ud).on_header(frame->hd.stream_id, as_view(name, namelen), as_view(value, valuelen));
    return 0;
  }
  static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                           const std::uint8_t* data, std::size_t len, void* ud) {
    peer(ud).on_data(stream_id, {data, len});
    return 0;
  }
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    peer(ud).on_frame(*frame, false);
    return 0;
  }
  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                             void* ud) {
    peer(ud).on_stream_close(stream_id, error_code);
    return 0;
  }
  // nghttp2 terminates a session on many protocol errors without any other callback; the
  // GOAWAY it sends carries the reason as debug data.
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    if (frame->hd.type == NGHTTP2_GOAWAY) peer(ud).on_goaway_sent(frame->goaway);
    peer(ud).on_frame(*frame, true);
    return 0;
  }
  static int on_invalid_frame(nghttp2_session*, const nghttp2_frame* frame, int lib_error,
                              void* ud) {
    peer(ud).fail("invalid frame from server (type " + std::to_string(frame->hd.type) +
                  ", stream " + std::to_string(frame->hd.stream_id) +
                  "): " + nghttp2_strerror(lib_error));
    return 0;
  }
  static int on_error(nghttp2_session*, int, const char* msg, std::size_t len, void* ud) {
    peer(ud).last_h2_error_.assign(msg, len);
    return 0;
  }
  static void on_ssl_msg(int write_p, int, int content_type, const void* buf, std::size_t len, SSL*,
                         void* arg) {
    peer(arg).on_ssl_msg(write_p, content_type, {static_cast<const std::uint8_t*>(buf), len});
  }
};

// ---------------------------------------------------------------------------------------------
// Construction

SimPeer::SimPeer(SSL_CTX* client_ctx, PeerConfig cfg)
    : cfg_(std::move(cfg)),
      records_(cfg_.keep_history),
      window_(cfg_.window, cfg_.initial_window, cfg_.connection_window) {
  if (init_tls(client_ctx)) init_h2();
}

SimPeer::~SimPeer() = default;

bool SimPeer::init_tls(SSL_CTX* ctx) {
  clear_ssl_errors();
  ssl_.reset(SSL_new(ctx));
  BIO* internal = nullptr;
  BIO* network = nullptr;
  if (!ssl_ || BIO_new_bio_pair(&internal, kRingSize, &network, kRingSize) != 1) {
    fail_tls("TLS setup failed: " + openssl_errors());
    return false;
  }
  net_bio_.reset(network);
  SSL_set_bio(ssl_.get(), internal, internal);  // one reference, owned by the SSL from here
  SSL_set_connect_state(ssl_.get());
  // close_notify_is_last() matches the SSL's record count against records(): that needs the
  // SSL to read exactly one record at a time.
  SSL_set_read_ahead(ssl_.get(), 0);
  SSL_set_msg_callback(ssl_.get(), &PeerCallbacks::on_ssl_msg);
  SSL_set_msg_callback_arg(ssl_.get(), this);
  const std::string host = authority_host(cfg_.authority);
  const auto alpn = std::to_array<unsigned char>({2, 'h', '2'});
  // SSL_set_alpn_protos returns 0 on success, unlike nearly every other OpenSSL call.
  if (SSL_set_tlsext_host_name(ssl_.get(), host.c_str()) != 1 ||
      SSL_set_alpn_protos(ssl_.get(), alpn.data(), alpn.size()) != 0) {
    fail_tls("TLS setup failed (SNI/ALPN): " + openssl_errors());
    return false;
  }
  return true;
}

NgCallbacksPtr PeerCallbacks::make_table() {
  nghttp2_session_callbacks* raw = nullptr;
  if (nghttp2_session_callbacks_new(&raw) != 0) return nullptr;
  NgCallbacksPtr cbs{raw};
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs.get(), &on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs.get(), &on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs.get(), &on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs.get(), &on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs.get(), &on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs.get(), &on_frame_send);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs.get(), &on_invalid_frame);
  nghttp2_session_callbacks_set_error_callback2(cbs.get(), &on_error);
  return cbs;
}

bool SimPeer::init_h2() {
  const NgCallbacksPtr cbs = PeerCallbacks::make_table();
  nghttp2_option* raw_opt = nullptr;
  const int opt_rv = nghttp2_option_new(&raw_opt);
  const NgOptionPtr opt{raw_opt};
  // Without a session the TLS side still runs (SSL_read completes the handshake) and its
  // plaintext goes nowhere.
  if (!cbs || opt_rv != 0) {
    fail("nghttp2 setup failed: out of memory", PeerPhase::H2Dead);
    return false;
  }
  // Window credit is the world's decision (PeerWindow): automatic WINDOW_UPDATEs would make the
  // client's output depend on how much the server has sent so far. With wide windows a
  // connection carries at most 2^31-1 bytes of DATA.
  nghttp2_option_set_no_auto_window_update(opt.get(), 1);
  nghttp2_session* raw_session = nullptr;
  if (nghttp2_session_client_new2(&raw_session, cbs.get(), this, opt.get()) != 0) {
    fail("nghttp2_session_client_new2 failed", PeerPhase::H2Dead);
    return false;
  }
  session_.reset(raw_session);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Public driving interface

void SimPeer::start() {
  if (phase_ < PeerPhase::TlsDead) drive_tls();
}

std::vector<std::uint8_t> SimPeer::take_outbound() {
  move_tls_output();
  return std::exchange(outbound_, {});
}

void SimPeer::on_wire(std::span<const std::uint8_t> ciphertext) {
  if (aborted()) return;
  wire_hash_.update(ciphertext);
  if (cfg_.keep_bytes) wire_.insert(wire_.end(), ciphertext.begin(), ciphertext.end());
  records_.scan(ciphertext);
  while (!ciphertext.empty() && phase_ < PeerPhase::TlsDead) {
    const std::size_t room = BIO_ctrl_get_write_guarantee(net_bio_.get());
    // drive_tls() reads until WANT_READ, which empties the ring; a full ring means a bug here.
    if (room == 0) {
      fail_tls("TLS input ring full although the client has read everything");
      return;
    }
    const std::size_t chunk = std::min(room, ciphertext.size());
    const int n = BIO_write(net_bio_.get(), ciphertext.data(), static_cast<int>(chunk));
    if (n <= 0) {
      fail_tls("BIO_write into the TLS input ring failed");
      return;
    }
    ciphertext = ciphertext.subspan(static_cast<std::size_t>(n));
    drive_tls();
  }
}

// A peer waiting for a PING ACK still has business on the connection.
bool SimPeer::done() const {
  return ended() || (unfinished() == 0 && pings_outstanding_.empty());
}

bool SimPeer::requests_finished() const {
  return ended() || unfinished() == 0;
}

std::uint32_t SimPeer::unfinished() const {
  return cfg_.requests - completed_ - static_cast<std::uint32_t>(cancelled_);
}

std::size_t SimPeer::responses_failed() const {
  return (ended() ? cfg_.requests - cancelled_ : completed_) - verified_;
}

bool SimPeer::close_notify_is_last() const {
  if (!close_notify_received_ || !close_notify_record_ || records_.count() == 0) return false;
  return *close_notify_record_ == records_.count() - 1 && records_.at_record_end();
}

Digest SimPeer::wire_digest() const {
  return wire_hash_.digest();
}
Digest SimPeer::app_digest() const {
  return app_hash_.digest();
}

// ---------------------------------------------------------------------------------------------
// Behaviours the world decides on

bool SimPeer::send_ping() {
  if (!session_ || phase_ != PeerPhase::Open) return false;
  const std::uint64_t id = ++pings_sent_;
  std::array<std::uint8_t, 8> opaque{};
  for (std::size_t i = 0; i < 8; ++i) opaque[i] = static_cast<std::uint8_t>(id >> (56 - 8 * i));
  if (nghttp2_submit_ping(session_.get(), NGHTTP2_FLAG_NONE, opaque.data()) != 0) {
    --pings_sent_;
    return false;
  }
  pings_outstanding_.insert(id);
  service_h2();
  return true;
}

bool SimPeer::send_settings() {
  if (!session_ || phase_ != PeerPhase::Open) return false;
  if (nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, nullptr, 0) != 0) return false;
  ++settings_sent_;
  service_h2();
  return true;
}

PeerVerdict SimPeer::verdict() const {
  if (aborted()) return PeerVerdict::Aborted;
  if (goaway_received_ && goaway_error_code_ == NGHTTP2_ENHANCE_YOUR_CALM && cfg_.floods) {
    return PeerVerdict::Defended;
  }
  return failed() ? PeerVerdict::Failed : PeerVerdict::Completed;
}

std::string_view to_string(PeerPhase p) {
  switch (p) {
    case PeerPhase::Handshake:
      return "handshake";
    case PeerPhase::Open:
      return "open";
    case PeerPhase::Ended:
      return "ended";
    case PeerPhase::H2Dead:
      return "h2-dead";
    case PeerPhase::TlsDead:
      return "tls-dead";
    case PeerPhase::Aborted:
      return "aborted";
  }
  return "?";
}

std::string_view to_string(PeerVerdict v) {
  switch (v) {
    case PeerVerdict::Completed:
      return "completed";
    case PeerVerdict::Defended:
      return "defended";
    case PeerVerdict::Failed:
      return "failed";
    case PeerVerdict::Aborted:
      return "aborted";
    case PeerVerdict::Stalled:
      return "stalled";
  }
  return "?";
}

bool SimPeer::send_goaway() {
  if (!session_ || phase_ != PeerPhase::Open || goaway_sent_) return false;
  // The client opens no stream after its GOAWAY: requests not sent yet are given up.
  if (nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0) !=
      0) {
    return false;
  }
  goaway_sent_ = true;
  cancelled_ += cfg_.requests - next_request_index_;
  next_request_index_ = cfg_.requests;
  service_h2();
  return true;
}

bool SimPeer::cancel_stream(std::int32_t stream_id) {
  const auto it = open_streams_.find(stream_id);
  const StreamResult* r = find_stream(stream_id);
  if (it == open_streams_.end() || r == nullptr || r->end_stream || it->second->cancelled_by_us ||
      ended()) {
    return false;
  }
  if (nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL) !=
      0) {
    return false;
  }
  it->second->cancelled_by_us = true;
  service_h2();
  return true;
}

void SimPeer::abort() {
  if (ended()) return;
  phase_ = PeerPhase::Aborted;
  outbound_.clear();
  // What was in flight is given up, not failed; what arrived of it must still be right. (A
  // stream that fails here is not counted completed: responses_failed() counts it once ended.)
  for (const auto& [id, st] : open_streams_) {
    StreamResult& r = streams_[id];
    classify(r, st->verifier, StreamEnd::GivenUp);
    if (r.outcome == StreamOutcome::Cancelled) ++cancelled_;
  }
  open_streams_.clear();
  window_.clear();
  cancelled_ += cfg_.requests - next_request_index_;
  next_request_index_ = cfg_.requests;
}

bool SimPeer::release_window(std::uint64_t limit) {
  if (!session_ || ended()) return false;
  window_.release(session_.get(), limit);
  service_h2();
  return window_credit_pending();
}

bool SimPeer::window_credit_pending() const {
  return !ended() && window_.pending(session_.get());
}

std::vector<std::int32_t> SimPeer::streams_in_progress() const {
  std::vector<std::int32_t> out;
  for (const auto& [id, st] : open_streams_) {
    const auto it = streams_.find(id);
    if (!st->cancelled_by_us && it != streams_.end() && it->second.status != 0 &&
        !it->second.end_stream) {
      out.push_back(id);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// TLS

void SimPeer::drive_tls() {
  if (phase_ >= PeerPhase::TlsDead) return;
  if (phase_ == PeerPhase::Handshake && !advance_handshake()) return;
  read_app_data();
}

// Returns true once the handshake is complete and HTTP/2 has started.
bool SimPeer::advance_handshake() {
  for (;;) {
    clear_ssl_errors();
    const int rv = SSL_do_handshake(ssl_.get());
    move_tls_output();
    if (rv == 1) return on_handshake_complete();
    const int err = SSL_get_error(ssl_.get(), rv);
    if (err == SSL_ERROR_WANT_READ) return false;
    // The output was just drained, so a retry after WANT_WRITE makes progress.
    if (err != SSL_ERROR_WANT_WRITE) {
      fail_tls("TLS handshake failed: " + ssl_error_text(err));
      return false;
    }
  }
}

bool SimPeer::on_handshake_complete() {
  phase_ = PeerPhase::Open;
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &proto, &len);
  const std::string_view selected = proto ? as_view(proto, len) : std::string_view{};
  if (selected != kAlpnH2) {
    fail_tls("ALPN: server selected '" + std::string(selected) + "', expected 'h2'");
    return false;
  }
  start_h2();
  return phase_ < PeerPhase::TlsDead;
}

void SimPeer::read_app_data() {
  std::array<std::uint8_t, kReadChunk> buf;
  while (phase_ < PeerPhase::TlsDead) {
    clear_ssl_errors();
    std::size_t n = 0;
    const int rv = SSL_read_ex(ssl_.get(), buf.data(), buf.size(), &n);
    move_tls_output();  // a read can make the SSL write (alerts, KeyUpdate replies)
    if (rv == 1) {
      app_hash_.update({buf.data(), n});
      app_size_ += n;
      if (cfg_.keep_bytes) app_stream_.insert(app_stream_.end(), buf.begin(), buf.begin() + n);
      feed_h2({buf.data(), n});
      continue;
    }
    const int err = SSL_get_error(ssl_.get(), rv);
    if (err == SSL_ERROR_WANT_READ) return;
    if (err == SSL_ERROR_ZERO_RETURN) return on_close_notify();
    if (err != SSL_ERROR_WANT_WRITE) return fail_tls("TLS read failed: " + ssl_error_text(err));
  }
}

void SimPeer::on_close_notify() {
  close_notify_received_ = true;
  clear_ssl_errors();
  SSL_shutdown(ssl_.get());  // answers with our own close_notify
  move_tls_output();
  if (unfinished() > 0) {
    fail_tls("server sent close_notify with " + std::to_string(unfinished()) + " of " +
             std::to_string(cfg_.requests) + " requests incomplete");
  }
  end_connection(PeerPhase::TlsDead);
}

bool SimPeer::ssl_write_all(const std::uint8_t* data, std::size_t len) {
  while (len > 0 && phase_ < PeerPhase::TlsDead) {
    clear_ssl_errors();
    std::size_t n = 0;
    const int rv = SSL_write_ex(ssl_.get(), data, len, &n);
    move_tls_output();
    if (rv == 1) {
      data += n;
      len -= n;
      continue;
    }
    // After WANT_WRITE OpenSSL requires the retry with the same buffer, which this loop does.
    const int err = SSL_get_error(ssl_.get(), rv);
    if (err != SSL_ERROR_WANT_WRITE) fail_tls("TLS write failed: " + ssl_error_text(err));
  }
  return len == 0;
}

void SimPeer::move_tls_output() {
  if (!net_bio_ || aborted()) return;
  for (std::size_t pending = BIO_ctrl_pending(net_bio_.get()); pending > 0;
       pending = BIO_ctrl_pending(net_bio_.get())) {
    const std::size_t old = outbound_.size();
    outbound_.resize(old + pending);
    const int n = BIO_read(net_bio_.get(), outbound_.data() + old, static_cast<int>(pending));
    outbound_.resize(old + static_cast<std::size_t>(std::max(n, 0)));
    if (n <= 0) return;
  }
}

void SimPeer::on_ssl_msg(int write_p, int content_type, std::span<const std::uint8_t> msg) {
  if (write_p != 0) return;
  if (content_type == SSL3_RT_HEADER) {
    ++tls_records_read_;
    return;
  }
  const bool close_notify =
      content_type == SSL3_RT_ALERT && msg.size() >= 2 && msg[1] == SSL_AD_CLOSE_NOTIFY;
  // The alert is delivered after the header of the record that carried it.
  if (close_notify && tls_records_read_ > 0) close_notify_record_ = tls_records_read_ - 1;
}

// ---------------------------------------------------------------------------------------------
// HTTP/2

void SimPeer::start_h2() {
  if (!session_) return;
  const std::array<nghttp2_settings_entry, 2> settings{{
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, window_.announced_stream_window()},
  }};
  int rv =
      nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  const std::int32_t connection_window = window_.announced_connection_window();
  if (rv == 0 && connection_window > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE) {
    rv = nghttp2_session_set_local_window_size(session_.get(), NGHTTP2_FLAG_NONE, 0,
                                               connection_window);
  }
  if (rv != 0) return fail(std::string("HTTP/2 start failed: ") + nghttp2_strerror(rv));
  service_h2();
}

void SimPeer::feed_h2(std::span<const std::uint8_t> plaintext) {
  if (!session_ || phase_ >= PeerPhase::H2Dead) return;
  const auto rv = nghttp2_session_mem_recv(session_.get(), plaintext.data(), plaintext.size());
  if (rv < 0) {
    return fail(std::string("nghttp2_session_mem_recv: ") + nghttp2_strerror(static_cast<int>(rv)),
                PeerPhase::H2Dead);
  }
  service_h2();
}

// Credits the window as the policy says, submits due requests and flushes everything nghttp2
// has queued. Stream closes can happen inside mem_send, so a flush may make more requests due:
// loop until neither has work.
void SimPeer::service_h2() {
  // Past Ended the peer still credits windows and flushes (ACKs, updates); it submits nothing.
  if (!session_ || phase_ == PeerPhase::Handshake || phase_ >= PeerPhase::H2Dead) return;
  window_.apply(session_.get());
  for (;;) {
    const bool submitted = submit_requests_if_due();
    const bool wrote = flush_h2();
    if (!submitted && !wrote) break;
  }
  check_connection_end();
}

bool SimPeer::flush_h2() {
  bool wrote = false;
  while (phase_ < PeerPhase::H2Dead) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session_.get(), &data);
    if (n < 0) {
      fail(std::string("nghttp2_session_mem_send: ") + nghttp2_strerror(static_cast<int>(n)),
           PeerPhase::H2Dead);
    }
    // data is valid only until the next mem_send: write it out before asking again.
    if (n <= 0 || !ssl_write_all(data, static_cast<std::size_t>(n))) break;
    wrote = true;
  }
  return wrote;
}

std::uint32_t SimPeer::concurrency_limit() const {
  const std::uint32_t server =
      nghttp2_session_get_remote_settings(session_.get(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return std::max<std::uint32_t>(1, std::min(cfg_.batch, server));
}

bool SimPeer::submit_requests_if_due() {
  // The server caps concurrency in its SETTINGS; requests sent before it could be refused.
  if (ended() || !server_settings_seen_ || goaway_received_ || goaway_sent_ ||
      next_request_index_ >= cfg_.requests) {
    return false;
  }
  const std::uint32_t limit = concurrency_limit();
  if (cfg_.pacing == PeerPacing::Lockstep) {
    if (!open_streams_.empty()) return false;
    const std::uint32_t count = std::min(limit, cfg_.requests - next_request_index_);
    for (std::uint32_t i = 0; i < count && !ended(); ++i) {
      submit_request(cfg_.first_request_id + next_request_index_++);
    }
    return true;
  }
  bool submitted = false;
  while (!ended() && open_streams_.size() < limit && next_request_index_ < cfg_.requests) {
    submit_request(cfg_.first_request_id + next_request_index_++);
    submitted = true;
  }
  return submitted;
}

void SimPeer::submit_request(std::uint64_t request_id) {
  const std::string path = "/r/" + std::to_string(request_id);
  const RequestSpec spec = cfg_.request ? cfg_.request(request_id) : RequestSpec{};
  std::vector<nghttp2_nv> nva{
      make_nv(":method", spec.method),       make_nv(":scheme", "https"),
      make_nv(":authority", cfg_.authority), make_nv(":path", path),
      make_nv("user-agent", "emitlab-peer"),
  };
  for (const auto& h : spec.headers) nva.push_back(make_nv(h.name, h.value));
  auto st = std::make_unique<StreamState>();
  st->empty_data_left = cfg_.empty_data_frames;
  nghttp2_data_provider body{};
  body.source.ptr = &st->empty_data_left;  // the state's node outlives the stream
  body.read_callback = &empty_request_body;
  const std::int32_t stream_id =
      nghttp2_submit_request(session_.get(), nullptr, nva.data(), nva.size(),
                             cfg_.empty_data_frames > 0 ? &body : nullptr, nullptr);
  if (stream_id < 0) {
    return fail("nghttp2_submit_request for request " + std::to_string(request_id) + ": " +
                nghttp2_strerror(stream_id));
  }
  StreamResult& r = streams_[stream_id];
  r.stream_id = stream_id;
  r.request_id = request_id;
  r.requested_at = now();
  if (cfg_.expect) {
    ExpectedResponse expected = cfg_.expect(request_id);
    // Room for the fields the response should carry, so the table is allocated once.
    r.headers.reserve(expected.headers.size());
    st->verifier = ResponseVerifier(std::move(expected));
  }
  open_streams_[stream_id] = std::move(st);
  window_.open(stream_id);
}

void SimPeer::check_connection_end() {
  if (ended()) return;
  const std::uint32_t incomplete = unfinished();
  if (goaway_received_ && open_streams_.empty() && incomplete > 0) {
    return fail("server sent GOAWAY (last_stream_id " + std::to_string(goaway_last_stream_id_) +
                ", " + h2_error_name(goaway_error_code_) + ") with " + std::to_string(incomplete) +
                " of " + std::to_string(cfg_.requests) + " requests incomplete");
  }
  if (nghttp2_session_want_read(session_.get()) || nghttp2_session_want_write(session_.get())) {
    return;
  }
  // The session has nothing more to do: after a GOAWAY, or after it terminated on an error.
  if (incomplete > 0) return fail("HTTP/2 session terminated: " + last_h2_error_);
  end_connection();
}

void SimPeer::on_goaway_sent(const nghttp2_goaway& goaway) {
  last_h2_error_ = "client sent GOAWAY " + h2_error_name(goaway.error_code);
  if (goaway.opaque_data_len > 0) {
    last_h2_error_ += ": " + std::string(as_view(goaway.opaque_data, goaway.opaque_data_len));
  }
}

StreamResult* SimPeer::find_stream(std::int32_t stream_id) {
  const auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : &it->second;
}

// Once a final status arrived, any further header block is a trailer block. An interim (1xx)
// response is discarded so that headers() holds the final response only.
void SimPeer::begin_header_block(std::int32_t stream_id) {
  StreamResult* r = find_stream(stream_id);
  if (!r) return;
  trailer_block_ = r->status >= 200;
  if (!trailer_block_) {
    r->status = 0;
    r->headers.clear();
    if (r->first_byte_at == 0) r->first_byte_at = now();
  }
}

void SimPeer::on_header(std::int32_t stream_id, std::string_view name, std::string_view value) {
  StreamResult* r = find_stream(stream_id);
  if (!r) return;
  if (trailer_block_) {
    r->trailers.push_back({std::string(name), std::string(value)});
  } else if (name == ":status") {
    // nghttp2's HTTP checks guarantee three digits; a failed parse leaves 0, a mismatch.
    std::from_chars(value.data(), value.data() + value.size(), r->status);
  } else if (!name.starts_with(':')) {
    r->headers.push_back({std::string(name), std::string(value)});
  }
}

// Every body byte is checked against the expectation as it arrives, so a stream given up
// midway is still verified up to where it got, and bodies need not be kept.
void SimPeer::on_data(std::int32_t stream_id, std::span<const std::uint8_t> data) {
  StreamResult* r = find_stream(stream_id);
  if (!r) return;
  const auto it = open_streams_.find(stream_id);
  if (it != open_streams_.end()) it->second->verifier.on_body(r->body_bytes, data);
  r->body_bytes += data.size();
  if (cfg_.keep_bodies) r->body.insert(r->body.end(), data.begin(), data.end());
}

void SimPeer::on_frame(const nghttp2_frame& frame, bool outbound) {
  const FrameInfo info{frame.hd.type, frame.hd.flags, frame.hd.stream_id, frame.hd.length};
  if (cfg_.on_frame) cfg_.on_frame(info, outbound);
  if (outbound) return;
  if (cfg_.keep_history) frames_.push_back(info);
  StreamResult* r = find_stream(frame.hd.stream_id);
  switch (frame.hd.type) {
    case NGHTTP2_SETTINGS:
      if ((frame.hd.flags & NGHTTP2_FLAG_ACK) == 0) server_settings_seen_ = true;
      break;
    case NGHTTP2_GOAWAY:
      goaway_received_ = true;
      goaway_last_stream_id_ = frame.goaway.last_stream_id;
      goaway_error_code_ = frame.goaway.error_code;
      break;
    case NGHTTP2_RST_STREAM:
      if (r) {
        r->reset = true;
        r->error_code = frame.rst_stream.error_code;
      }
      break;
    case NGHTTP2_PING:
      if ((frame.hd.flags & NGHTTP2_FLAG_ACK) != 0) on_ping_ack(frame.ping);
      break;
    case NGHTTP2_DATA:
      window_.consumed(frame.hd.stream_id, frame.hd.length);
      if (r && (frame.hd.flags & NGHTTP2_FLAG_END_STREAM)) r->end_stream = true;
      break;
    case NGHTTP2_HEADERS:
      if (r && frame.headers.cat == NGHTTP2_HCAT_RESPONSE) r->headers_complete = true;
      if (r && (frame.hd.flags & NGHTTP2_FLAG_END_STREAM)) r->end_stream = true;
      break;
    default:
      break;
  }
}

void SimPeer::on_ping_ack(const nghttp2_ping& ping) {
  std::uint64_t id = 0;
  for (const std::uint8_t b : ping.opaque_data) id = (id << 8) | b;
  if (pings_outstanding_.erase(id) == 0) {
    return fail("PING ACK for opaque data " + std::to_string(id) +
                " that is not an outstanding PING (unknown or acknowledged twice)");
  }
  ++pings_acked_;
}

void SimPeer::on_stream_close(std::int32_t stream_id, std::uint32_t error_code) {
  StreamResult* r = find_stream(stream_id);
  const auto it = open_streams_.find(stream_id);
  // After the connection ended every open stream already counts as failed.
  if (!r || ended() || it == open_streams_.end()) return;
  const StreamState& st = *it->second;
  if (r->error_code == 0) r->error_code = error_code;
  r->last_byte_at = now();
  // Given up by the peer: not delivered, but what arrived of it must be right.
  classify(*r, st.verifier, st.cancelled_by_us ? StreamEnd::GivenUp : StreamEnd::Closed);
  if (r->outcome == StreamOutcome::Cancelled) {
    ++cancelled_;
  } else {
    ++completed_;
    if (r->outcome == StreamOutcome::Verified) ++verified_;
  }
  open_streams_.erase(it);
  window_.close(stream_id);
  if (cfg_.on_stream_done) cfg_.on_stream_done(*r);
  if (!cfg_.keep_history) streams_.erase(stream_id);  // r dangles from here
}

// ---------------------------------------------------------------------------------------------
// Outcome

void SimPeer::fail(std::string message, PeerPhase to) {
  if (failure_.empty()) failure_ = std::move(message);
  end_connection(to);
}

// The streams still open stay in open_streams_ (nghttp2 may still close them; nothing counts).
void SimPeer::end_connection(PeerPhase to) {
  if (!ended()) {
    for (const auto& [id, st] : open_streams_) {
      classify(streams_[id], st->verifier, StreamEnd::ConnectionEnded);
    }
  }
  phase_ = std::max(phase_, to);
}

std::uint64_t SimPeer::state_digest() const {
  std::uint64_t h = 0x7065657273746174ULL;
  auto add = [&h](std::uint64_t v) { h = mix_all(h, v); };
  for (std::uint8_t b : wire_hash_.digest()) add(b);
  for (std::uint8_t b : app_hash_.digest()) add(b);
  add(outbound_.size());
  add(digest_bytes(outbound_));
  add(records_.count());
  add(records_.header_fill());
  add(records_.body_left());
  add(tls_records_read_);
  add(close_notify_record_.value_or(~0ULL));
  add(static_cast<std::uint64_t>(phase_));
  for (bool f : {failed(), server_settings_seen_, trailer_block_, goaway_received_, goaway_sent_,
                 close_notify_received_}) {
    add(f);
  }
  add(static_cast<std::uint64_t>(goaway_last_stream_id_));
  add(next_request_index_);
  add(completed_);
  add(verified_);
  add(cancelled_);
  add(pings_sent_);
  add(pings_acked_);
  add(pings_outstanding_.size());
  add(window_.updates_sent());
  for (const auto& [id, st] : streams_) {
    add(static_cast<std::uint64_t>(id));
    add(st.body_bytes);
    add(st.headers_complete);
    add(st.end_stream);
    add(st.reset);
    add(st.error_code);
    add(static_cast<std::uint64_t>(st.outcome));
    add(st.trailers.size());
  }
  for (const auto& [id, st] : open_streams_) {
    add(static_cast<std::uint64_t>(id));
    add(window_.stream_credit(id));
    add(st->cancelled_by_us);
    add(st->verifier.body_mismatch().value_or(~0ULL));
  }
  if (nghttp2_session* s = session_.get()) {
    add(static_cast<std::uint64_t>(nghttp2_session_get_local_window_size(s)));
    add(static_cast<std::uint64_t>(nghttp2_session_get_remote_window_size(s)));
    add(static_cast<std::uint64_t>(nghttp2_session_get_effective_recv_data_length(s)));
    add(nghttp2_session_get_outbound_queue_size(s));
    add(static_cast<std::uint64_t>(nghttp2_session_want_write(s)));
    for (const auto& [id, st] : open_streams_) {
      add(static_cast<std::uint64_t>(nghttp2_session_get_stream_local_window_size(s, id)));
      add(static_cast<std::uint64_t>(nghttp2_session_get_stream_effective_recv_data_length(s, id)));
    }
  }
  return h;
}

}  // namespace emitlab::sim
