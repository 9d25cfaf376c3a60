// The server side of one TLS connection over memory rings, after upstream's tls_layer:
//   plaintext ring (PT)  producers BIO_write frames here; the drain encrypts from it;
//   cipher-out ring      OpenSSL writes records here; the drain ships one contiguous span at a
//                        time through the Transport port, and the completion consumes it;
//   cipher-in ring       the peer's ciphertext is fed here.
// Invariants: at most one write in flight; no encryption into the cipher-out ring while one is;
// close_notify only after the plaintext ring is empty and no write is in flight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/failure.h"
#include "core/invariants.h"
#include "core/mutant.h"
#include "core/ossl_handles.h"
#include "core/pass_record.h"
#include "core/transport.h"
#include "core/wire_limits.h"

namespace emitlab {

struct TlsRingConfig {
  static constexpr std::size_t kRecordSlot = emitlab::kRecordSlot;
  std::size_t cipher_out_records = 0;  // 1..kMaxCipherOutRecords; 0 selects kDefaultCipherOut
  std::size_t plaintext_ring = 32768;
  std::size_t cipher_in_ring = kRecordSlot;
  std::size_t cipher_out_bytes() const;
};

class TlsListener {
 public:
  virtual ~TlsListener() = default;
  virtual void on_established() = 0;
  // Decrypted bytes from the peer; return false to fail the connection.
  virtual bool on_app_data(std::span<const std::uint8_t> data) = 0;
  // A write completed; upstream runs the next emit pass from here.
  virtual void on_cipher_complete() = 0;
  // Whether plaintext beyond the TLS layer's own is waiting to be written (frames nghttp2 holds,
  // bytes an emitter holds): what makes a short record undersized.
  virtual bool plaintext_queued() const = 0;
};

class TlsConnection {
 public:
  enum class State { Handshake, Established, Closing, Closed, Failed };

  TlsConnection(SSL_CTX* ctx, const TlsRingConfig& rings, Transport& transport,
                TlsListener& listener);
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // Ciphertext from the peer, any size: fed through the cipher-in ring piece by piece.
  void feed(std::span<const std::uint8_t> ciphertext);
  // The completion of the write in flight: must name exactly its span's length.
  void on_write_complete(std::size_t bytes);

  // Upstream h2_tls_write_chunk: SSL_write_ex straight into the cipher-out ring while the
  // plaintext ring is empty; on WANT_WRITE the unwritten tail is parked in the plaintext ring.
  bool write_direct(std::span<const std::uint8_t> plaintext);
  // Copies into the plaintext ring; it must take every byte.
  bool write_plaintext(std::span<const std::uint8_t> plaintext, CopySite site);
  std::size_t plaintext_write_guarantee() const;
  std::size_t plaintext_pending() const;

  // Upstream tls_drain: encrypt from the plaintext ring and ship, while no write is in flight.
  void drain();
  // Sends close_notify as soon as the plaintext ring is empty and no write is in flight.
  void close_gracefully();

  bool write_in_flight() const { return inflight_ != 0; }
  std::size_t inflight_bytes() const { return inflight_; }
  State state() const { return state_; }
  // Ciphertext that arrived after the connection closed, dropped unread.
  std::uint64_t ignored_after_close() const { return ignored_after_close_; }
  bool failed() const { return state_ == State::Failed; }
  const std::string& error() const { return error_; }
  // Why it failed (None while it has not); the first failure wins, as for error().
  FailureKind failure_kind() const { return failure_kind_; }
  // Fails the connection with kind Other (callers outside core) or with `kind`.
  void fail(std::string reason);
  void fail(FailureKind kind, std::string reason);

  // Counts (SSL_write calls, records, submissions, parks, copies) go to this record.
  void attach(PassRecord* record) { record_ = record; }
  void set_invariant_log(InvariantLog* log) { log_ = log; }
  // Arms a fault point of the bug zoo for this connection (core/mutant.h).
  void arm(Mutant mutant) { mutant_ = mutant; }
  // Records a broken rule and fails the connection.
  void violation(Rule rule, std::string detail);
  SSL* ssl() const { return ssl_.get(); }

  // The connection's invariants, checked between calls (not from inside one): the first one
  // broken, described, or empty when all hold. Cheap (a few BIO queries): a test or the
  // explorer may call it after every step.
  std::string validate() const;

 private:
  static void on_ssl_message(int write_p, int version, int content_type, const void* buf,
                             std::size_t len, SSL* ssl, void* arg);
  void advance();
  void read_application_data();
  bool encrypt_step();
  bool ship_step();
  bool maybe_send_close_notify();
  bool park(std::span<const std::uint8_t> tail);
  bool fail_from_ssl(const char* what, int ret);
  // Every SSL_write_ex goes through here, where P2 and P3 are checked.
  int ssl_write(const std::uint8_t* data, std::size_t len, std::size_t* written, bool direct);

  Transport* transport_;
  TlsListener* listener_;
  SslPtr ssl_;
  BioPtr network_;  // ours: cipher-in is its write side, cipher-out is read from it
  BioPtr pt_;       // producers write the plaintext ring here
  BioPtr pt_app_;   // the drain reads the plaintext ring here
  std::size_t inflight_ = 0;
  bool draining_ = false;
  bool close_requested_ = false;
  bool close_notify_sent_ = false;
  std::uint64_t ignored_after_close_ = 0;
  State state_ = State::Handshake;
  std::string error_;
  PassRecord* record_ = nullptr;
  InvariantLog* log_ = nullptr;
  std::size_t retry_at_least_ = 0;  // after WANT_WRITE: the record OpenSSL holds pending
  std::size_t plaintext_ring_ = 0;  // the plaintext ring's size, for validate()
  FailureKind failure_kind_ = FailureKind::None;
  Mutant mutant_ = Mutant::None;
};

}  // namespace emitlab
