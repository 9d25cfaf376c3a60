// One accepted TCP connection: the core ServerConnection over a libuv socket.
//
// Transport: submit() hands the span to uv_write (one write in flight, as the port requires);
// libuv writes what the socket takes at once and the rest when it is writable again (partial
// writes and EAGAIN), and its completion callback drives on_write_complete from the loop, as
// upstream's reactor does. Reads go straight to on_ciphertext.
//
// Lifetime: created by the Server on accept, destroyed by the Server from the close callback of
// its last libuv handle (the socket and the deadline timer), never earlier: libuv still owns
// the handles until then. After close() nothing calls into the ServerConnection again.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/server_connection.h"

namespace emitlab::net {

class Server;

class SocketConnection final : public Transport, public RequestHandler {
 public:
  // How the connection ended, for the statistics.
  enum class End : std::uint8_t { Open, Refused, Graceful, PeerGone, Failed, Deadline, Forced };

  SocketConnection(Server& server, std::uint64_t id);
  ~SocketConnection() override;
  SocketConnection(const SocketConnection&) = delete;
  SocketConnection& operator=(const SocketConnection&) = delete;

  // The socket libuv accepts into; start() once it is accepted.
  uv_tcp_t* socket() { return &tcp_; }
  // Builds the ServerConnection and starts reading. False (and closing) when it cannot.
  bool start(SSL_CTX* ctx, const ConnectionConfig& config, Allocator& allocator);
  // Graceful: GOAWAY, open streams finish, close_notify, FIN, then close on the peer's EOF.
  void begin_shutdown();
  // Closes now; the ServerConnection releases every stream and reference (on_transport_closed).
  void close(End how, const std::string& reason);

  void submit(std::span<const std::uint8_t> ciphertext) override;
  void on_request(ServerConnection& connection, ServerStream& stream) override;

  std::uint64_t id() const { return id_; }
  End end() const { return end_; }
  // Why it closed (empty for a graceful end).
  const std::string& end_reason() const { return end_reason_; }
  const ServerConnection* connection() const { return conn_.get(); }

 private:
  static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_written(uv_write_t* req, int status);
  static void on_shutdown_done(uv_shutdown_t* req, int status);
  static void on_deadline(uv_timer_t* t);
  static void on_handle_closed(uv_handle_t* h);
  // After every call into core: a failed connection closes; a closed one half-closes.
  void after_core();
  void arm_deadline();

  Server* server_;
  std::uint64_t id_;
  uv_tcp_t tcp_{};
  uv_timer_t deadline_{};
  uv_write_t write_req_{};
  uv_shutdown_t shutdown_req_{};
  std::unique_ptr<ServerConnection> conn_;
  std::size_t inflight_ = 0;  // bytes of the write in flight, 0 when none
  int write_error_ = 0;       // uv_write refused a submission (handled in after_core)
  bool shutdown_sent_ = false;
  bool closing_ = false;
  int open_handles_ = 0;
  End end_ = End::Open;
  std::string end_reason_;
  // Reads land here; a 64 KiB read carries four full records (the cipher-in ring takes them
  // piece by piece).
  std::array<std::uint8_t, 65536> read_buffer_{};
};

}  // namespace emitlab::net
