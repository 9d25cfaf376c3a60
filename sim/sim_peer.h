// The simulated client of the deterministic testbed: a real OpenSSL client SSL and a real nghttp2
// client session, driven only by calls. It owns no socket, thread, clock or randomness: the world
// moves ciphertext with take_outbound() / on_wire(), and everything the peer does follows from the
// bytes it is given. It records what it received (ciphertext, TLS records, plaintext, frames,
// streams) and verifies every response byte for byte against the expectation.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/header_table.h"
#include "core/nghttp2_handles.h"
#include "core/ossl_handles.h"

namespace emitlab::sim {

struct ExpectedResponse {
  int status = 200;
  HeaderTable headers;
  std::vector<std::uint8_t> body;
  HeaderTable trailers;
};
using ExpectFn = std::function<ExpectedResponse(std::uint64_t request_id)>;

struct PeerConfig {
  std::uint32_t requests = 1;  // total requests on this connection
  // Lockstep: the next batch of up to `batch` requests is submitted only when every earlier
  // stream has closed (so server output does not depend on timing).
  std::uint32_t batch = 1;
  std::uint64_t first_request_id = 0;  // request i on this connection gets id first_request_id + i
  std::string authority = "emitlab.test";
  ExpectFn expect;  // expected response by request id
};

// One TLS record of wire(); offset is that of its 5-byte header.
struct RecordInfo {
  std::uint64_t offset;
  std::uint8_t content_type;
  std::uint16_t length;
};

struct FrameInfo {
  std::uint8_t type;
  std::uint8_t flags;
  std::int32_t stream_id;
  std::size_t length;
};

struct StreamResult {
  std::int32_t stream_id = 0;
  std::uint64_t request_id = 0;
  int status = 0;
  HeaderTable headers;  // response headers in order, pseudo headers excluded
  std::vector<std::uint8_t> body;
  HeaderTable trailers;
  bool end_stream = false;
  bool reset = false;            // RST_STREAM received
  std::uint32_t error_code = 0;  // of the RST_STREAM, or of the close
  bool verified = false;
  std::string mismatch;  // first difference, human readable
};

class SimPeer {
 public:
  SimPeer(SSL_CTX* client_ctx, PeerConfig cfg);  // ctx borrowed, must outlive the peer
  SimPeer(const SimPeer&) = delete;
  SimPeer& operator=(const SimPeer&) = delete;
  ~SimPeer();

  void start();                               // queues the ClientHello
  std::vector<std::uint8_t> take_outbound();  // client->server ciphertext so far (drains it)
  void on_wire(std::span<const std::uint8_t> ciphertext);  // server->client, any chunking

  // Every request completed (verified or not), or the connection ended.
  bool done() const;
  // TLS or HTTP/2 error, or the server closed (GOAWAY, close_notify) before all requests completed.
  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }
  std::size_t responses_verified() const { return verified_; }
  // Closed, reset or mismatched; once the connection has ended also every request not completed.
  std::size_t responses_failed() const;

  const std::vector<std::uint8_t>& wire() const { return wire_; }      // all server ciphertext
  const std::vector<RecordInfo>& records() const { return records_; }  // complete records of wire()
  const std::vector<std::uint8_t>& app_stream() const { return app_stream_; }  // SSL_read output
  const std::vector<FrameInfo>& frames() const { return frames_; }  // frames received, in order
  const std::map<std::int32_t, StreamResult>& streams() const { return streams_; }
  bool goaway_received() const { return goaway_received_; }
  bool close_notify_received() const { return close_notify_received_; }
  // The record that carried close_notify is the last record on the wire, and no byte followed it.
  bool close_notify_is_last() const;

 private:
  friend struct PeerCallbacks;  // the nghttp2 and OpenSSL C callbacks, in sim_peer.cpp

  bool init_tls(SSL_CTX* ctx);
  bool init_h2();

  // TLS
  void parse_records();
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
  bool submit_batch_if_ready();
  void submit_request(std::uint64_t request_id);
  void check_connection_end();
  StreamResult* find_stream(std::int32_t stream_id);
  void begin_header_block(std::int32_t stream_id);
  void on_header(std::int32_t stream_id, std::string_view name, std::string_view value);
  void on_data(std::int32_t stream_id, std::span<const std::uint8_t> data);
  void on_frame(const nghttp2_frame& frame);
  void on_stream_close(std::int32_t stream_id, std::uint32_t error_code);
  void on_goaway_sent(const nghttp2_goaway& goaway);
  std::string first_difference(const StreamResult& got) const;

  // Outcome
  void fail(std::string message);
  void fail_tls(std::string message);
  void end_connection();

  PeerConfig cfg_;
  SslPtr ssl_;
  BioPtr net_bio_;  // our side of the BIO pair; the SSL owns the other side
  NgSessionPtr session_;

  std::vector<std::uint8_t> outbound_;
  std::vector<std::uint8_t> wire_;
  std::vector<RecordInfo> records_;
  std::uint64_t next_record_offset_ = 0;
  std::vector<std::uint8_t> app_stream_;
  std::vector<FrameInfo> frames_;
  std::map<std::int32_t, StreamResult> streams_;
  std::set<std::int32_t> open_streams_;

  bool handshake_done_ = false;
  bool tls_dead_ = false;  // TLS failed or close_notify received: feed no more ciphertext
  bool h2_dead_ = false;   // nghttp2 returned a fatal error: feed it nothing more
  bool over_ = false;      // the connection ended for request accounting
  bool failed_ = false;
  std::string failure_;
  std::string last_h2_error_;

  bool server_settings_seen_ = false;
  bool trailer_block_ = false;  // the header block being received is a trailer block
  bool goaway_received_ = false;
  std::int32_t goaway_last_stream_id_ = 0;
  std::uint32_t goaway_error_code_ = 0;

  std::uint64_t tls_records_read_ = 0;  // record headers the SSL has read
  std::optional<std::uint64_t> close_notify_record_;
  bool close_notify_received_ = false;

  std::uint32_t next_request_index_ = 0;
  std::uint32_t completed_ = 0;
  std::size_t verified_ = 0;
};

}  // namespace emitlab::sim
