// The simulated client of the deterministic testbed: a real OpenSSL client SSL and a real nghttp2
// client session, driven only by calls. It owns no socket, thread, clock or randomness: the world
// moves ciphertext with take_outbound() / on_wire(), decides when the peer pings, resets, sends
// GOAWAY, releases window credit or drops the connection, and everything else the peer does
// follows from the bytes it is given. It records what it received (ciphertext, TLS records,
// plaintext, frames, streams) and verifies every response byte for byte against the
// expectation as the bytes arrive. This file is the driver (TLS and the HTTP/2 client, its phase
// one PeerPhase); its parts: sim/record_scanner.h (the TLS records of the wire),
// sim/window_credit.h (the window policies), sim/response_verifier.h (the checks and the one
// outcome rule).
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/header_table.h"
#include "core/nghttp2_handles.h"
#include "core/ossl_handles.h"
#include "sim/record_scanner.h"
#include "sim/response_verifier.h"
#include "sim/sha256.h"
#include "sim/window_credit.h"

namespace emitlab::sim {

using ExpectFn = std::function<ExpectedResponse(std::uint64_t request_id)>;

// What the peer sends for a request (besides :scheme, :authority, :path and user-agent).
struct RequestSpec {
  std::string method = "GET";
  HeaderTable headers;  // extra request headers, after user-agent
};
using RequestFn = std::function<RequestSpec(std::uint64_t request_id)>;

enum class PeerPacing : std::uint8_t {
  // The next batch of up to `batch` requests goes out only when every earlier stream has
  // closed, so what the server emits does not depend on timing.
  Lockstep,
  // h2load's: a new request as soon as one completes, `batch` streams open at most.
  ClosedLoop,
};

struct FrameInfo {
  std::uint8_t type;
  std::uint8_t flags;
  std::int32_t stream_id;
  std::size_t length;
};

struct PeerConfig {
  std::uint32_t requests = 1;  // total requests on this connection
  std::uint32_t batch = 1;     // streams open at once (capped by the server's SETTINGS)
  PeerPacing pacing = PeerPacing::Lockstep;
  std::uint64_t first_request_id = 0;  // request i on this connection gets id first_request_id + i
  std::string authority = "emitlab.test";
  ExpectFn expect;    // expected response by request id
  RequestFn request;  // empty: GET with no extra headers

  PeerWindow window = PeerWindow::Wide;
  std::uint32_t initial_window = 65535;     // SETTINGS_INITIAL_WINDOW_SIZE unless wide
  std::uint32_t connection_window = 65535;  // connection receive window unless wide

  // Each request goes with this many empty DATA frames before its END_STREAM (0: the HEADERS
  // frame ends the request).
  std::uint32_t empty_data_frames = 0;
  // The world makes this peer flood (PINGs, SETTINGS, resets or empty DATA): a GOAWAY with
  // ENHANCE_YOUR_CALM is then the server defending itself, not a server failure.
  bool floods = false;

  bool keep_bytes = true;   // keep wire() and app_stream() (the digests are always computed)
  bool keep_bodies = true;  // keep each StreamResult's body (verification never needs it)
  // Keep frames(), records() and every finished stream in streams(). Off, the peer keeps what
  // is open (its open streams, the last record) and hands each finished stream to
  // on_stream_done, so its memory does not grow with the number of requests.
  bool keep_history = true;
  // Every stream as it closes (verified, failed or cancelled by the peer), before it may go.
  std::function<void(const StreamResult&)> on_stream_done;
  std::function<std::uint64_t()> clock;  // virtual time for the stream timestamps
  // Every frame the peer receives (outbound false) or sends (outbound true), in order.
  std::function<void(const FrameInfo&, bool outbound)> on_frame;
};

// How the connection ended, as the peer judges it (the world adds Stalled: it settled while the
// peer still waited for something).
enum class PeerVerdict : std::uint8_t {
  Completed,  // every request finished and every PING answered, or still running
  Defended,   // a flooding peer got GOAWAY ENHANCE_YOUR_CALM: the server defended itself
  Failed,     // a TLS or HTTP/2 error, a wrong byte, or the server gave up early
  Aborted,    // the peer dropped the connection on purpose
  Stalled,    // the world settled with requests unfinished or PINGs unanswered
};
std::string_view to_string(PeerVerdict v);

// Where the peer's connection stands. It only moves down this list.
enum class PeerPhase : std::uint8_t {
  Handshake,  // the TLS handshake is under way
  Open,       // HTTP/2 runs; requests are submitted and accounted for
  // Every request is accounted for (finished, failed or given up), or the peer failed: TLS and
  // HTTP/2 still read and answer the server (ACKs, window credit) until close_notify.
  Ended,
  H2Dead,   // nghttp2 failed fatally: ciphertext is still read, its plaintext goes nowhere
  TlsDead,  // TLS failed or close_notify arrived: no more ciphertext is read or written
  Aborted,  // the peer dropped the connection: no close_notify, no more I/O
};
std::string_view to_string(PeerPhase p);

class SimPeer {
 public:
  SimPeer(SSL_CTX* client_ctx, PeerConfig cfg);  // ctx borrowed, must outlive the peer
  SimPeer(const SimPeer&) = delete;
  SimPeer& operator=(const SimPeer&) = delete;
  ~SimPeer();

  void start();                               // queues the ClientHello
  std::vector<std::uint8_t> take_outbound();  // client->server ciphertext so far (drains it)
  bool has_outbound() const { return !outbound_.empty(); }
  void on_wire(std::span<const std::uint8_t> ciphertext);  // server->client, any chunking

  // Behaviours the world decides on. Each returns false when it does not apply now.
  bool send_ping();
  bool send_settings();                        // an empty SETTINGS frame (the server owes an ACK)
  bool send_goaway();                          // no new request after it; the rest are cancelled
  bool cancel_stream(std::int32_t stream_id);  // RST_STREAM(CANCEL)
  void abort();                                // the connection drops: no close_notify, no more I/O
  // Credits consumed bytes back to the server, at most `limit` per stream and for the
  // connection (stingy and withheld windows). Returns true when credit is still pending.
  bool release_window(std::uint64_t limit);
  bool window_credit_pending() const;
  // Open streams whose response has begun and not ended (candidates for a mid-body reset).
  std::vector<std::int32_t> streams_in_progress() const;

  // Every request finished (verified, failed or cancelled) and every PING answered, or the
  // connection ended.
  bool done() const;
  bool requests_finished() const;  // as done(), without waiting for PING ACKs
  PeerPhase phase() const { return phase_; }
  bool aborted() const { return phase_ == PeerPhase::Aborted; }
  // TLS or HTTP/2 error, or the server closed (GOAWAY, close_notify) before all requests completed.
  bool failed() const { return !failure_.empty(); }
  // Completed, Defended, Failed or Aborted; Completed also while the connection runs (the world
  // tells Stalled apart once it settles).
  PeerVerdict verdict() const;
  const std::string& failure() const { return failure_; }
  std::size_t responses_verified() const { return verified_; }
  // Closed, reset or mismatched; once the connection has ended also every request not
  // completed, unless the peer itself gave it up (cancelled).
  std::size_t responses_failed() const;
  std::size_t responses_cancelled() const { return cancelled_; }
  std::uint32_t responses_completed() const { return completed_; }
  std::uint64_t pings_sent() const { return pings_sent_; }
  std::uint64_t pings_acked() const { return pings_acked_; }
  std::uint64_t settings_sent() const { return settings_sent_; }
  std::uint32_t goaway_error_code() const { return goaway_error_code_; }
  std::size_t pings_outstanding() const { return pings_outstanding_.size(); }
  std::uint64_t window_updates_sent() const { return window_.updates_sent(); }

  const std::vector<std::uint8_t>& wire() const { return wire_; }  // all server ciphertext
  // Complete records of wire (every one with keep_history; else at most the last).
  const std::vector<RecordInfo>& records() const { return records_.records(); }
  std::uint64_t record_count() const { return records_.count(); }  // complete records so far
  const std::vector<std::uint8_t>& app_stream() const { return app_stream_; }  // SSL_read output
  std::uint64_t wire_bytes() const { return records_.bytes(); }
  std::uint64_t app_bytes() const { return app_size_; }
  Digest wire_digest() const;  // SHA-256 of everything wire() would hold
  Digest app_digest() const;
  // Frames received, in order (empty without keep_history).
  const std::vector<FrameInfo>& frames() const { return frames_; }
  // Every stream (without keep_history: the open ones and those the connection's end failed).
  const std::map<std::int32_t, StreamResult>& streams() const { return streams_; }
  bool goaway_received() const { return goaway_received_; }
  bool close_notify_received() const { return close_notify_received_; }
  // The record that carried close_notify is the last record on the wire, and no byte followed it.
  bool close_notify_is_last() const;
  // The peer's state for the explorer (sim/explore.h says what it covers): its TLS record
  // parse position, what it read so far (by digest), its streams' verification and window
  // state, nghttp2's windows and queue, and its counters. Virtual times are left out.
  std::uint64_t state_digest() const;

 private:
  friend struct PeerCallbacks;  // the nghttp2 and OpenSSL C callbacks, in sim_peer.cpp
  struct StreamState;           // verification state and request body of an open stream

  bool init_tls(SSL_CTX* ctx);
  bool init_h2();

  // TLS
  void drive_tls();
  bool advance_handshake();
  bool on_handshake_complete();
  void read_app_data();
  void on_close_notify();
  bool ssl_write_all(const std::uint8_t* data, std::size_t len);
  void move_tls_output();
  void on_ssl_msg(int write_p, int content_type, std::span<const std::uint8_t> msg);

  // HTTP/2
  void start_h2();
  void feed_h2(std::span<const std::uint8_t> plaintext);
  void service_h2();
  bool flush_h2();
  bool submit_requests_if_due();
  std::uint32_t concurrency_limit() const;
  void submit_request(std::uint64_t request_id);
  void check_connection_end();
  StreamResult* find_stream(std::int32_t stream_id);
  void begin_header_block(std::int32_t stream_id);
  void on_header(std::int32_t stream_id, std::string_view name, std::string_view value);
  void on_data(std::int32_t stream_id, std::span<const std::uint8_t> data);
  void on_frame(const nghttp2_frame& frame, bool outbound);
  void on_stream_close(std::int32_t stream_id, std::uint32_t error_code);
  void on_goaway_sent(const nghttp2_goaway& goaway);
  void on_ping_ack(const nghttp2_ping& ping);
  std::uint64_t now() const { return cfg_.clock ? cfg_.clock() : 0; }

  // Phase and outcome. Each moves the phase to at least `to`; the first failure is the cause.
  bool ended() const { return phase_ >= PeerPhase::Ended; }
  void fail(std::string message, PeerPhase to = PeerPhase::Ended);
  void fail_tls(std::string message) { fail(std::move(message), PeerPhase::TlsDead); }
  void end_connection(PeerPhase to = PeerPhase::Ended);
  std::uint32_t unfinished() const;

  PeerConfig cfg_;
  SslPtr ssl_;
  BioPtr net_bio_;  // our side of the BIO pair; the SSL owns the other side
  NgSessionPtr session_;

  std::vector<std::uint8_t> outbound_;
  std::vector<std::uint8_t> wire_;
  RecordScanner records_;
  std::vector<std::uint8_t> app_stream_;
  std::uint64_t app_size_ = 0;
  Sha256 wire_hash_;
  Sha256 app_hash_;
  std::vector<FrameInfo> frames_;
  std::map<std::int32_t, StreamResult> streams_;
  std::map<std::int32_t, std::unique_ptr<StreamState>> open_streams_;

  PeerPhase phase_ = PeerPhase::Handshake;
  std::string failure_;  // empty unless the peer failed
  std::string last_h2_error_;

  bool server_settings_seen_ = false;
  bool trailer_block_ = false;  // the header block being received is a trailer block
  bool goaway_received_ = false;
  bool goaway_sent_ = false;
  std::int32_t goaway_last_stream_id_ = 0;
  std::uint32_t goaway_error_code_ = 0;

  std::uint64_t tls_records_read_ = 0;  // record headers the SSL has read
  std::optional<std::uint64_t> close_notify_record_;
  bool close_notify_received_ = false;

  std::uint32_t next_request_index_ = 0;
  std::uint32_t completed_ = 0;  // streams closed (verified or not), cancelled excluded
  std::size_t verified_ = 0;
  std::size_t cancelled_ = 0;

  std::uint64_t pings_sent_ = 0;
  std::uint64_t pings_acked_ = 0;
  std::set<std::uint64_t> pings_outstanding_;
  WindowCredit window_;
  std::uint64_t settings_sent_ = 0;
};

}  // namespace emitlab::sim
