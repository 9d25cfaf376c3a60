#include "net/server.h"

#include <netinet/in.h>

#include <cmath>
#include <csignal>
#include <fstream>
#include <iostream>
#include <utility>
#include <vector>

namespace emitlab::net {
namespace {

constexpr int kBacklog = 1024;

Server* self(void* data) {
  return static_cast<Server*>(data);
}

// Adds what one connection did (exact totals, however few records it kept).
void add_connection(ServeStats& s, const ServerConnection& c) {
  const PassRecord t = c.totals();
  s.passes += c.pass_count();
  s.plaintext_bytes += t.bytes;
  s.ssl_writes += t.ssl_writes;
  s.tls_records += t.tls_records;
  s.undersized_records += t.undersized_records;
  s.write_submissions += t.write_submissions;
  s.emitter_allocations += t.emitter_allocs();
  s.reference_operations += t.ref_ops();
  s.bytes_copied += t.copied_total();
  const auto& session = c.session();
  s.responses += session.streams_closed() - session.streams_reset();
  s.streams_reset += session.streams_reset();
}

void write_file(const std::string& path, const std::string& text, bool* ok) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
  f.flush();
  *ok = static_cast<bool>(f);
}

}  // namespace

Server::Server(ServeConfig config, std::ostream& out)
    : config_(std::move(config)),
      out_(&out),
      ctx_(make_server_context(config_.tls)),
      handler_(config_.body, allocator_),
      write_timeout_ms_(static_cast<std::uint64_t>(std::llround(config_.write_timeout_s * 1000))) {
  if (!config_.stats_json.empty()) {
    bool ok = false;
    write_file(config_.stats_json, "{}\n", &ok);
    if (!ok) throw NetError("bad --stats-json '" + config_.stats_json + "': cannot be written");
  }
  // A write to a socket whose peer has gone (a reset that arrives in CLOSE_WAIT, as when h2load
  // closes its connections at the end of a -D run) fails with EPIPE and, by default, kills the
  // process with SIGPIPE before libuv can report the error. The error is what the connection
  // needs (it closes as peer gone), so the signal is ignored for the whole process.
  std::signal(SIGPIPE, SIG_IGN);
  uv_loop_init(&loop_);
  uv_tcp_init(&loop_, &listener_);
  listener_.data = this;
  sockaddr_in addr{};
  uv_ip4_addr(config_.listen.host.c_str(), config_.listen.port, &addr);
  const std::string where = config_.listen.host + ":" + std::to_string(config_.listen.port);
  int r = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (r == 0) r = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kBacklog, on_connection);
  if (r < 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    throw NetError("bad --listen '" + where + "': cannot listen there (" + uv_strerror(r) + ")");
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  for (uv_signal_t* s : {&sigint_, &sigterm_, &sigusr1_}) {
    uv_signal_init(&loop_, s);
    s->data = this;
  }
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  uv_signal_start(&sigusr1_, on_signal, SIGUSR1);
  uv_timer_init(&loop_, &shutdown_timer_);
  shutdown_timer_.data = this;
  start_usage_ = process_usage();
}

Server::~Server() {
  // Whatever is still open (run() never ran or threw) closes here, so the loop can be closed.
  for (auto& [id, c] : connections_) c->close(SocketConnection::End::Forced, "server destroyed");
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (uv_is_closing(h) == 0) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

int Server::run() {
  *out_ << "emitlab serve: listening on " << config_.listen.host << ':' << port_ << " (strategy "
        << config_.strategy_text << ", body " << config_.body << " B)" << std::endl;
  uv_run(&loop_, UV_RUN_DEFAULT);
  return report() ? 0 : 1;
}

void Server::on_connection(uv_stream_t* listener, int status) {
  Server& s = *self(listener->data);
  if (status < 0 || s.shutting_down_) return;
  const std::uint64_t id = s.next_id_++;
  auto owned = std::make_unique<SocketConnection>(s, id);
  SocketConnection* c = owned.get();
  s.connections_.emplace(id, std::move(owned));
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(c->socket())) != 0) {
    c->close(SocketConnection::End::Refused, "accept failed");
    return;
  }
  // Connections still open (closing ones do not count against the limit once retired).
  if (s.connections_.size() > s.config_.max_connections) {
    c->close(SocketConnection::End::Refused, "over --max-connections");
    return;
  }
  ++s.retired_.connections_accepted;
  c->start(s.ctx_.get(), s.config_.connection, s.allocator_);
}

void Server::retire(SocketConnection* c) {
  using End = SocketConnection::End;
  // One line on stderr for every end worth an operator's look (and a test's wait).
  const char* how = nullptr;
  switch (c->end()) {
    case End::PeerGone:
      how = "peer gone";
      break;
    case End::Failed:
      how = "failed";
      break;
    case End::Deadline:
      how = "reclaimed";
      break;
    case End::Forced:
      how = "forced";
      break;
    default:
      break;
  }
  if (how != nullptr) {
    std::cerr << "emitlab serve: connection " << c->id() << ' ' << how << ": " << c->end_reason()
              << std::endl;
  }
  switch (c->end()) {
    case End::Refused:
      ++retired_.connections_refused;
      break;
    case End::Graceful:
      ++retired_.connections_graceful;
      break;
    case End::PeerGone:
      ++retired_.connections_peer_gone;
      break;
    case End::Failed:
      ++retired_.connections_failed;
      break;
    case End::Deadline:
      ++retired_.connections_reclaimed;
      break;
    case End::Forced:
      ++retired_.connections_forced;
      break;
    case End::Open:
      break;
  }
  if (c->connection() != nullptr) add_connection(retired_, *c->connection());
  connections_.erase(c->id());  // deletes c
  finish_if_done();
}

void Server::on_signal(uv_signal_t* handle, int signum) {
  Server& s = *self(handle->data);
  if (signum == SIGUSR1) {
    s.report();
    return;
  }
  s.begin_shutdown();
}

void Server::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  uv_timer_start(&shutdown_timer_, on_shutdown_deadline, write_timeout_ms_, 0);
  // begin_shutdown may close (and retire) a connection at once: walk a copy of the ids.
  std::vector<std::uint64_t> ids;
  ids.reserve(connections_.size());
  for (const auto& [id, c] : connections_) ids.push_back(id);
  for (const std::uint64_t id : ids) {
    if (auto it = connections_.find(id); it != connections_.end()) it->second->begin_shutdown();
  }
  finish_if_done();
}

void Server::on_shutdown_deadline(uv_timer_t* timer) {
  Server& s = *self(timer->data);
  std::vector<SocketConnection*> left;
  for (const auto& [id, c] : s.connections_) left.push_back(c.get());
  for (SocketConnection* c : left) c->close(SocketConnection::End::Forced, "shutdown deadline");
}

void Server::finish_if_done() {
  if (!shutting_down_ || finished_ || !connections_.empty()) return;
  finished_ = true;
  // The loop ends once these close: nothing else is left open.
  uv_timer_stop(&shutdown_timer_);
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&sigint_), reinterpret_cast<uv_handle_t*>(&sigterm_),
        reinterpret_cast<uv_handle_t*>(&sigusr1_),
        reinterpret_cast<uv_handle_t*>(&shutdown_timer_)}) {
    uv_close(h, nullptr);
  }
}

ServeStats Server::stats() const {
  ServeStats s = retired_;
  s.strategy = config_.strategy_text;
  s.body = config_.body;
  s.listen = config_.listen.host + ":" + std::to_string(port_);
  for (const auto& [id, c] : connections_) {
    if (c->connection() == nullptr) continue;
    ++s.connections_open;
    add_connection(s, *c->connection());
    s.open_streams += c->connection()->session().open_streams();
  }
  s.requests = handler_.requests();
  s.held_response_bodies = allocator_.live(AllocOwner::Response);
  s.held_emitter_blocks =
      allocator_.live(AllocOwner::Emitter) + allocator_.live(AllocOwner::Nghttp2);
  const ProcessUsage used = process_usage() - start_usage_;
  s.write_syscalls = used.write_syscalls;
  s.cpu_us = used.cpu_us;
  s.user_us = used.user_us;
  s.system_us = used.system_us;
  s.page_faults = used.minor_faults + used.major_faults;
  return s;
}

bool Server::report() {
  const ServeStats s = stats();
  bool ok = true;
  // The file first: a reader that waits for the text's first line finds the JSON complete.
  if (!config_.stats_json.empty()) write_file(config_.stats_json, to_json(s), &ok);
  write_text(*out_, s);
  if (!ok) *out_ << "emitlab serve: cannot write --stats-json '" << config_.stats_json << "'\n";
  out_->flush();
  return ok;
}

}  // namespace emitlab::net
