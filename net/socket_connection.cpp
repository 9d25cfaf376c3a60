#include "net/socket_connection.h"

#include <exception>

#include "net/server.h"

namespace emitlab::net {
namespace {

SocketConnection* self(void* data) {
  return static_cast<SocketConnection*>(data);
}

}  // namespace

SocketConnection::SocketConnection(Server& server, std::uint64_t id) : server_(&server), id_(id) {
  uv_tcp_init(server.loop(), &tcp_);
  uv_timer_init(server.loop(), &deadline_);
  tcp_.data = this;
  deadline_.data = this;
  write_req_.data = this;
  shutdown_req_.data = this;
  open_handles_ = 2;
}

SocketConnection::~SocketConnection() = default;

bool SocketConnection::start(SSL_CTX* ctx, const ConnectionConfig& config, Allocator& allocator) {
  uv_tcp_nodelay(&tcp_, 1);
  try {
    conn_ = std::make_unique<ServerConnection>(ctx, config, *this, *this, allocator);
  } catch (const std::exception& e) {
    close(End::Failed, e.what());
    return false;
  }
  const int r = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
  if (r < 0) {
    close(End::PeerGone, uv_strerror(r));
    return false;
  }
  return true;
}

void SocketConnection::begin_shutdown() {
  if (closing_ || !conn_) return;
  if (conn_->tls().state() == TlsConnection::State::Handshake) {
    close(End::Graceful, "shut down before its handshake ended");  // nothing to finish
    return;
  }
  conn_->shutdown();
  after_core();
}

void SocketConnection::close(End how, const std::string& reason) {
  if (closing_) return;
  closing_ = true;
  end_ = how;
  end_reason_ = reason;
  if (conn_) conn_->on_transport_closed(reason);  // releases streams, references, scratch
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  uv_timer_stop(&deadline_);
  // A write still in flight is cancelled (its callback sees UV_ECANCELED) before these close.
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline_), on_handle_closed);
}

void SocketConnection::submit(std::span<const std::uint8_t> ciphertext) {
  // The span stays valid until on_write_complete (the Transport contract), so libuv writes
  // from it without a copy.
  inflight_ = ciphertext.size();
  uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(ciphertext.data())),
                             static_cast<unsigned>(ciphertext.size()));
  const int r = uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, on_written);
  if (r < 0) {
    write_error_ = r;  // we are inside core: after_core() closes once it has unwound
    return;
  }
  arm_deadline();
}

void SocketConnection::on_request(ServerConnection& connection, ServerStream& stream) {
  server_->handler().respond(connection, stream);
}

void SocketConnection::arm_deadline() {
  uv_timer_start(&deadline_, on_deadline, server_->write_timeout_ms(), 0);
}

void SocketConnection::after_core() {
  if (closing_) return;
  if (write_error_ != 0) {
    close(End::PeerGone, std::string("write: ") + uv_strerror(write_error_));
    return;
  }
  if (conn_->failed()) {
    close(End::Failed, conn_->error());
    return;
  }
  if (conn_->closed() && inflight_ == 0 && !shutdown_sent_) {
    // close_notify is out: send FIN and keep reading until the peer's EOF, so that closing
    // with unread input never turns into a reset that could cost the peer our last bytes.
    shutdown_sent_ = true;
    const int r =
        uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_), on_shutdown_done);
    if (r < 0) {
      close(End::Graceful, uv_strerror(r));
      return;
    }
    arm_deadline();  // how long we wait for the peer's EOF
  }
}

void SocketConnection::on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
  auto* c = self(h->data);
  *buf = uv_buf_init(reinterpret_cast<char*>(c->read_buffer_.data()),
                     static_cast<unsigned>(c->read_buffer_.size()));
}

void SocketConnection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = self(s->data);
  if (c->closing_) return;
  if (nread > 0) {
    c->conn_->on_ciphertext(
        {reinterpret_cast<const std::uint8_t*>(buf->base), static_cast<std::size_t>(nread)});
    c->after_core();
  } else if (nread == UV_EOF) {
    if (c->shutdown_sent_ || c->conn_->closed()) {
      c->close(End::Graceful, "");
    } else {
      c->close(End::PeerGone, "the peer closed the connection");
    }
  } else if (nread < 0) {
    c->close(c->shutdown_sent_ ? End::Graceful : End::PeerGone,
             std::string("read: ") + uv_strerror(static_cast<int>(nread)));
  }
}

void SocketConnection::on_written(uv_write_t* req, int status) {
  auto* c = self(req->data);
  const std::size_t bytes = c->inflight_;
  c->inflight_ = 0;
  if (c->closing_) return;  // cancelled by close()
  uv_timer_stop(&c->deadline_);
  if (status < 0) {
    c->close(End::PeerGone, std::string("write: ") + uv_strerror(status));
    return;
  }
  c->conn_->on_write_complete(bytes);
  c->after_core();
}

void SocketConnection::on_shutdown_done(uv_shutdown_t* req, int status) {
  auto* c = self(req->data);
  if (c->closing_ || status >= 0) return;
  c->close(End::Graceful, std::string("shutdown: ") + uv_strerror(status));
}

void SocketConnection::on_deadline(uv_timer_t* t) {
  auto* c = self(t->data);
  if (c->shutdown_sent_) {
    c->close(End::Graceful, "the peer did not close after close_notify");
  } else {
    c->close(End::Deadline, "write deadline: the peer stopped reading");
  }
}

void SocketConnection::on_handle_closed(uv_handle_t* h) {
  auto* c = self(h->data);
  if (--c->open_handles_ == 0) c->server_->retire(c);  // deletes c
}

}  // namespace emitlab::net
