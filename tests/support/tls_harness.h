// A pinned two-party harness for one TlsConnection: the server side under test, a plain OpenSSL
// client over a memory BIO pair, and the simulated link (sim/sim_link.h) as its transport,
// holding the one span in flight until the test completes it. No HTTP/2, no world: the test
// decides every delivery.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/tls_connection.h"
#include "sim/deterministic_tls.h"
#include "sim/sim_link.h"

namespace emitlab::testing {

class TlsHarness final : public TlsListener {
 public:
  explicit TlsHarness(TlsRingConfig rings = {}, std::uint64_t seed = 7)
      : keys_(seed), client_(SSL_new(keys_.client_ctx())) {
    BIO* inner = nullptr;
    BIO* outer = nullptr;
    if (!client_ || BIO_new_bio_pair(&inner, 1 << 20, &outer, 1 << 20) != 1) {
      throw std::runtime_error("client setup failed");
    }
    SSL_set_bio(client_.get(), inner, inner);
    net_.reset(outer);
    const std::array<unsigned char, 3> alpn{2, 'h', '2'};
    SSL_set_tlsext_host_name(client_.get(), "emitlab.test");
    SSL_set_alpn_protos(client_.get(), alpn.data(), alpn.size());
    SSL_set_connect_state(client_.get());
    conn_ = std::make_unique<TlsConnection>(keys_.server_ctx(), rings, link_, *this);
    conn_->set_invariant_log(&log_);
    conn_->attach(&record_);
  }
  ~TlsHarness() override {
    conn_.reset();  // its SSL uses the libctx of keys_
    client_.reset();
    net_.reset();
  }

  // TlsListener.
  void on_established() override { established = true; }
  bool on_app_data(std::span<const std::uint8_t> data) override {
    received.insert(received.end(), data.begin(), data.end());
    return accept_input;
  }
  void on_cipher_complete() override { ++completions; }
  bool plaintext_queued() const override { return false; }

  TlsConnection& conn() { return *conn_; }
  bool in_flight() const { return !link_.inflight().empty(); }
  std::size_t in_flight_size() const { return link_.inflight().size(); }
  // A write submitted while one was in flight (a broken connection, never a harness choice).
  bool overlapped() const { return link_.overlapped(); }

  // Client -> server: whatever the client has written so far.
  void client_to_server() {
    std::vector<std::uint8_t> bytes(BIO_ctrl_pending(net_.get()));
    if (bytes.empty()) return;
    BIO_read(net_.get(), bytes.data(), static_cast<int>(bytes.size()));
    conn_->feed(bytes);
  }
  // Delivers the span in flight to the client and completes it with `bytes` (its length by
  // default).
  void complete(std::size_t bytes = SIZE_MAX) {
    const auto span = link_.take();
    BIO_write(net_.get(), span.data(), static_cast<int>(span.size()));
    conn_->on_write_complete(bytes == SIZE_MAX ? span.size() : bytes);
  }
  void complete_all() {
    while (in_flight() && !conn_->failed()) complete();
  }
  void handshake() {
    for (int i = 0; i < 16 && !(established && SSL_is_init_finished(client_.get())); ++i) {
      SSL_do_handshake(client_.get());
      client_to_server();
      complete_all();
    }
    if (!established) throw std::runtime_error("handshake did not finish: " + conn_->error());
  }
  // Everything the client can decrypt now; sets close_notify_seen on close_notify.
  std::string client_read() {
    std::string out;
    std::array<char, 4096> buf{};
    for (;;) {
      std::size_t got = 0;
      if (SSL_read_ex(client_.get(), buf.data(), buf.size(), &got) == 1) {
        out.append(buf.data(), got);
        continue;
      }
      if (SSL_get_error(client_.get(), 0) == SSL_ERROR_ZERO_RETURN ||
          (SSL_get_shutdown(client_.get()) & SSL_RECEIVED_SHUTDOWN) != 0) {
        close_notify_seen = true;
      }
      return out;
    }
  }
  void client_write(const std::string& text) {
    std::size_t written = 0;
    SSL_write_ex(client_.get(), text.data(), text.size(), &written);
    client_to_server();
  }

  InvariantLog log_;
  PassRecord record_;
  bool established = false;
  bool accept_input = true;
  bool close_notify_seen = false;
  int completions = 0;
  std::vector<std::uint8_t> received;

 private:
  sim::DeterministicTls keys_;
  SslPtr client_;
  BioPtr net_;
  sim::SimLink link_;  // before conn_, which holds it as its Transport
  std::unique_ptr<TlsConnection> conn_;
};

inline std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::uint8_t>('a' + (i * 7 + i / 251) % 26);
  return v;
}
inline std::string as_text(const std::vector<std::uint8_t>& v) {
  return {v.begin(), v.end()};
}

}  // namespace emitlab::testing
