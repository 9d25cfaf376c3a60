// `emitlab serve`: one libuv loop, one listening socket, a SocketConnection per client.
//
// Operations: --max-connections refuses (closes at accept) what is over the limit; a write
// that does not complete within --write-timeout reclaims its connection (upstream #223), so one
// client that stops reading never holds the others up; SIGINT/SIGTERM stop accepting and shut
// every connection down gracefully (GOAWAY, open streams finish, close_notify), force-closing
// what is left after --write-timeout, then run() returns 0; SIGUSR1 prints the statistics.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <unordered_map>

#include "core/server_connection.h"
#include "net/body_handler.h"
#include "net/listen_address.h"
#include "net/live_allocator.h"
#include "net/process_usage.h"
#include "net/serve_stats.h"
#include "net/socket_connection.h"
#include "net/tls_server_context.h"

namespace emitlab::net {

struct ServeConfig {
  ListenAddress listen;
  ConnectionConfig connection;  // strategy and rings; pass_history stays bounded
  std::string strategy_text;    // as the user spelled it, for the statistics
  std::size_t body = 3;
  TlsServerConfig tls;
  double write_timeout_s = 10.0;
  std::uint32_t max_connections = 1024;
  std::string stats_json;  // empty: no JSON file
};

class Server {
 public:
  // Builds the TLS context and binds the socket. Throws NetError (one line: a bad key, an
  // address in use, an unwritable --stats-json).
  Server(ServeConfig config, std::ostream& out);
  // Closes every handle left (a Server that never ran, or one whose run() threw).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port actually bound (the kernel's choice for --listen ADDR:0).
  std::uint16_t port() const { return port_; }
  // Prints the readiness line, serves until a shutdown signal has been handled, prints the
  // statistics (and writes --stats-json). Returns the exit status: 0, or 1 when the statistics
  // file could not be written.
  int run();

  ServeStats stats() const;

  // For SocketConnection.
  uv_loop_t* loop() { return &loop_; }
  BodyHandler& handler() { return handler_; }
  std::uint64_t write_timeout_ms() const { return write_timeout_ms_; }
  // The connection's last handle closed: count how it ended, then delete it.
  void retire(SocketConnection* connection);

 private:
  static void on_connection(uv_stream_t* listener, int status);
  static void on_signal(uv_signal_t* handle, int signum);
  static void on_shutdown_deadline(uv_timer_t* timer);
  void begin_shutdown();
  void finish_if_done();
  bool report();  // text to out_, JSON to the file; false when the file could not be written

  ServeConfig config_;
  std::ostream* out_;
  SslCtxPtr ctx_;
  LiveAllocator allocator_;
  BodyHandler handler_;
  std::uint64_t write_timeout_ms_;
  uv_loop_t loop_{};
  uv_tcp_t listener_{};
  uv_signal_t sigint_{}, sigterm_{}, sigusr1_{};
  uv_timer_t shutdown_timer_{};
  std::uint16_t port_ = 0;
  bool shutting_down_ = false;
  bool finished_ = false;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<SocketConnection>> connections_;
  ProcessUsage start_usage_;
  // The retired connections' figures (what stats() adds to the open ones').
  ServeStats retired_;
};

}  // namespace emitlab::net
