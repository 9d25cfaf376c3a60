#include "core/tls_connection.h"

#include "core/assert.h"
#include "core/ssl_errors.h"

#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace emitlab {
namespace {

std::string ssl_error_text() {
  std::array<char, 256> buf{};
  const unsigned long code = ERR_peek_last_error();
  if (code == 0) return "no OpenSSL error queued";
  ERR_error_string_n(code, buf.data(), buf.size());
  return buf.data();
}

bool is_retry(int err) {
  return err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ;
}

}  // namespace

std::size_t TlsRingConfig::cipher_out_bytes() const {
  return cipher_out_records == 0 ? kDefaultCipherOut : cipher_out_records * kRecordSlot;
}

TlsConnection::TlsConnection(SSL_CTX* ctx, const TlsRingConfig& rings, Transport& transport,
                             TlsListener& listener)
    : transport_(&transport), listener_(&listener), ssl_(SSL_new(ctx)) {
  EMITLAB_ASSERT(ctx != nullptr);
  EMITLAB_ASSERT(rings.cipher_out_records <= kMaxCipherOutRecords);
  EMITLAB_ASSERT(rings.plaintext_ring > 0 && rings.cipher_in_ring > 0);
  if (!ssl_) throw std::runtime_error("SSL_new failed: " + ssl_error_text());
  BIO* internal = nullptr;
  BIO* network = nullptr;
  if (BIO_new_bio_pair(&internal, rings.cipher_out_bytes(), &network, rings.cipher_in_ring) != 1) {
    throw std::runtime_error("BIO_new_bio_pair (cipher rings) failed");
  }
  network_.reset(network);
  SSL_set_bio(ssl_.get(), internal, internal);  // the SSL now owns the internal half
  BIO* pt = nullptr;
  BIO* pt_app = nullptr;
  // The app side's own buffer (the back-channel) is never written; upstream keeps it at 17 KiB.
  if (BIO_new_bio_pair(&pt, rings.plaintext_ring, &pt_app, TlsRingConfig::kRecordSlot) != 1) {
    throw std::runtime_error("BIO_new_bio_pair (plaintext ring) failed");
  }
  pt_.reset(pt);
  pt_app_.reset(pt_app);
  plaintext_ring_ = rings.plaintext_ring;
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_RELEASE_BUFFERS);
  SSL_set_msg_callback(ssl_.get(), &TlsConnection::on_ssl_message);
  SSL_set_msg_callback_arg(ssl_.get(), this);
  SSL_set_accept_state(ssl_.get());
  EMITLAB_ASSERT(validate().empty());
}

void TlsConnection::on_ssl_message(int write_p, int, int content_type, const void*, std::size_t,
                                   SSL*, void* arg) {
  auto* self = static_cast<TlsConnection*>(arg);
  if (write_p == 1 && content_type == SSL3_RT_HEADER && self->record_ != nullptr) {
    ++self->record_->tls_records;
  }
}

void TlsConnection::violation(Rule rule, std::string detail) {
  if (log_ != nullptr) log_->report(rule, record_ != nullptr ? record_->index : 0, detail);
  fail(FailureKind::Invariant, "invariant " + std::string(to_string(rule)) + ": " + detail);
}

int TlsConnection::ssl_write(const std::uint8_t* data, std::size_t len, std::size_t* written,
                             bool direct) {
  if (inflight_ != 0) {
    violation(Rule::NoEncryptWhileInFlight, std::to_string(len) + " bytes to encrypt, " +
                                                std::to_string(inflight_) + " in flight");
    return 0;
  }
  if (direct && plaintext_pending() > 0) {
    violation(Rule::ParkedFirst,
              "direct write with " + std::to_string(plaintext_pending()) + " parked bytes ahead");
    return 0;
  }
  if (len < retry_at_least_) {
    violation(Rule::RetryLength, "retry of " + std::to_string(len) + " bytes, " +
                                     std::to_string(retry_at_least_) + " pending");
    return 0;
  }
  if (record_ != nullptr) ++record_->ssl_writes;
  clear_ssl_errors();
  const int r = SSL_write_ex(ssl_.get(), data, len, written);
  EMITLAB_ASSERT(r != 1 || (*written > 0 && *written <= len));
  // With partial writes one call carries at most one record, which stays pending on WANT_WRITE.
  retry_at_least_ = r == 1 ? 0 : std::min<std::size_t>(len, kMaxRecordPlaintext);
  if (r == 1 && record_ != nullptr && *written < kMaxRecordPlaintext) {
    // In the plaintext ring's case `data` is still counted as pending until the caller reads it.
    const std::size_t ring_after = plaintext_pending() - (direct ? 0 : *written);
    if (len > *written || ring_after > 0 || listener_->plaintext_queued()) {
      ++record_->undersized_records;
    }
  }
  return r;
}

void TlsConnection::fail(std::string reason) {
  fail(FailureKind::Other, std::move(reason));
}

void TlsConnection::fail(FailureKind kind, std::string reason) {
  EMITLAB_ASSERT(kind != FailureKind::None && !reason.empty());
  if (state_ == State::Failed) return;
  state_ = State::Failed;
  failure_kind_ = kind;
  error_ = std::move(reason);
}

bool TlsConnection::fail_from_ssl(const char* what, int ret) {
  const int err = SSL_get_error(ssl_.get(), ret);
  fail(FailureKind::Tls, std::string(what) + " failed (SSL_get_error " + std::to_string(err) +
                             "): " + ssl_error_text());
  return false;
}

void TlsConnection::feed(std::span<const std::uint8_t> ciphertext) {
  // Once close_notify is out the connection is over (a server closes its socket here): what the
  // peer sent meanwhile (window updates, PINGs in flight) is dropped, not left to fill the ring.
  if (state_ == State::Closed) {
    ignored_after_close_ += ciphertext.size();
    return;
  }
  while (!ciphertext.empty() && !failed()) {
    const std::size_t room = BIO_ctrl_get_write_guarantee(network_.get());
    if (room == 0) {
      fail(FailureKind::CipherInFull, "cipher-in ring full with an incomplete record");
      return;
    }
    const std::size_t take = std::min(room, ciphertext.size());
    // The write guarantee promises room for `take`: a shorter write is OpenSSL breaking it.
    EMITLAB_ASSERT(BIO_write(network_.get(), ciphertext.data(), static_cast<int>(take)) ==
                   static_cast<int>(take));
    ciphertext = ciphertext.subspan(take);
    advance();
  }
  drain();
}

void TlsConnection::advance() {
  if (state_ == State::Handshake) {
    clear_ssl_errors();
    const int r = SSL_do_handshake(ssl_.get());
    if (r != 1) {
      if (!is_retry(SSL_get_error(ssl_.get(), r))) fail_from_ssl("SSL_do_handshake", r);
      return;
    }
    state_ = State::Established;
    listener_->on_established();
  }
  if (state_ == State::Established || state_ == State::Closing) read_application_data();
}

void TlsConnection::read_application_data() {
  std::array<std::uint8_t, kMaxRecordPlaintext> buf;
  for (;;) {
    std::size_t got = 0;
    clear_ssl_errors();
    const int r = SSL_read_ex(ssl_.get(), buf.data(), buf.size(), &got);
    if (r == 1) {
      if (!listener_->on_app_data({buf.data(), got})) {
        fail(FailureKind::SessionRejected, "the HTTP/2 session rejected the peer's input");
        return;
      }
      continue;
    }
    const int err = SSL_get_error(ssl_.get(), r);
    if (is_retry(err) || err == SSL_ERROR_ZERO_RETURN) return;
    fail_from_ssl("SSL_read_ex", r);
    return;
  }
}

bool TlsConnection::write_direct(std::span<const std::uint8_t> plaintext) {
  if (failed()) return false;
  if (plaintext_pending() > 0) return park(plaintext);
  std::size_t off = 0;
  while (off < plaintext.size() && !failed()) {
    std::size_t written = 0;
    const int r = ssl_write(plaintext.data() + off, plaintext.size() - off, &written, true);
    if (r == 1) {
      off += written;
      continue;
    }
    if (failed()) return false;
    if (is_retry(SSL_get_error(ssl_.get(), r))) {
      if (mutant_ == Mutant::WantWriteFatal) return true;  // bug zoo: the tail is dropped
      return park(plaintext.subspan(off));
    }
    return fail_from_ssl("SSL_write_ex", r);
  }
  return !failed();
}

bool TlsConnection::park(std::span<const std::uint8_t> tail) {
  if (record_ != nullptr) {
    ++record_->parks;
    record_->parked_bytes += tail.size();
  }
  return write_plaintext(tail, CopySite::Park);
}

bool TlsConnection::write_plaintext(std::span<const std::uint8_t> plaintext, CopySite site) {
  if (failed()) return false;
  if (plaintext.empty()) return true;
  const std::size_t room = plaintext_write_guarantee();
  if (room < plaintext.size()) {
    const std::string detail = std::to_string(plaintext.size()) + " bytes to write, " +
                               std::to_string(room) + " free in the plaintext ring";
    if (site == CopySite::Park) {
      violation(Rule::ParkFits, detail);
    } else {
      fail(FailureKind::PlaintextRingFull, "plaintext ring full: " + detail);
    }
    return false;
  }
  EMITLAB_ASSERT(BIO_write(pt_.get(), plaintext.data(), static_cast<int>(plaintext.size())) ==
                 static_cast<int>(plaintext.size()));
  if (record_ != nullptr) record_->copied[static_cast<std::size_t>(site)] += plaintext.size();
  return true;
}

std::size_t TlsConnection::plaintext_write_guarantee() const {
  return BIO_ctrl_get_write_guarantee(pt_.get());
}

std::size_t TlsConnection::plaintext_pending() const {
  return BIO_ctrl_pending(pt_app_.get());
}

void TlsConnection::drain() {
  if (draining_) return;  // a nested call (from a synchronous completion) folds into this one
  draining_ = true;
  for (;;) {
    // Bug zoo: inflight-gate-off encrypts into the ring while a span of it is in flight.
    bool progress = (inflight_ == 0 || mutant_ == Mutant::InflightGateOff) && encrypt_step();
    if (failed()) break;
    progress = maybe_send_close_notify() || progress;
    progress = ship_step() || progress;
    if (failed() || !progress) break;
  }
  draining_ = false;
  // Postcondition: unless the connection failed, a drain leaves nothing it could have shipped.
  EMITLAB_ASSERT(failed() || inflight_ != 0 || BIO_ctrl_pending(network_.get()) == 0);
}

bool TlsConnection::encrypt_step() {
  if (state_ != State::Established) return false;
  char* span = nullptr;
  const int n = BIO_nread0(pt_app_.get(), &span);
  if (n <= 0) return false;
  std::size_t written = 0;
  const int r = ssl_write(reinterpret_cast<const std::uint8_t*>(span), static_cast<std::size_t>(n),
                          &written, false);
  if (failed()) return false;
  if (r == 1) {
    EMITLAB_ASSERT(BIO_nread(pt_app_.get(), &span, static_cast<int>(written)) ==
                   static_cast<int>(written));
    return true;
  }
  if (!is_retry(SSL_get_error(ssl_.get(), r))) fail_from_ssl("SSL_write_ex (drain)", r);
  return false;
}

bool TlsConnection::ship_step() {
  if (inflight_ != 0 || failed()) return false;
  char* span = nullptr;
  const int n = BIO_nread0(network_.get(), &span);
  if (n <= 0) return false;
  inflight_ = static_cast<std::size_t>(n);
  if (record_ != nullptr) ++record_->write_submissions;
  transport_->submit({reinterpret_cast<const std::uint8_t*>(span), inflight_});
  return true;
}

void TlsConnection::on_write_complete(std::size_t bytes) {
  if (inflight_ == 0 || bytes != inflight_) {
    violation(Rule::CompletionSpan, "completion of " + std::to_string(bytes) + " bytes with " +
                                        std::to_string(inflight_) + " in flight");
    return;
  }
  char* span = nullptr;
  EMITLAB_ASSERT(BIO_nread(network_.get(), &span, static_cast<int>(bytes)) ==
                 static_cast<int>(bytes));
  inflight_ = 0;
  drain();
  if (close_notify_sent_ && inflight_ == 0 && BIO_ctrl_pending(network_.get()) == 0 && !failed()) {
    state_ = State::Closed;
  }
  listener_->on_cipher_complete();
}

void TlsConnection::close_gracefully() {
  if (failed() || close_requested_) return;
  close_requested_ = true;
  drain();
}

bool TlsConnection::maybe_send_close_notify() {
  if (!close_requested_ || close_notify_sent_ || state_ != State::Established) return false;
  // The wait (each completion retries). Bug zoo: early-close-notify does not wait.
  const bool data_ahead = inflight_ != 0 || plaintext_pending() != 0;
  if (data_ahead && mutant_ != Mutant::EarlyCloseNotify) return false;
  if (data_ahead) {
    // P9 (59a4da2), checked where close_notify is written: now it would overtake the queued
    // plaintext, and with a span of the cipher ring in flight it breaks P2 as an SSL_write would.
    violation(Rule::CloseNotifyAfterData,
              "close_notify with " + std::to_string(plaintext_pending()) +
                  " plaintext bytes queued, " + std::to_string(inflight_) + " in flight");
    return false;
  }
  clear_ssl_errors();
  const int r = SSL_shutdown(ssl_.get());
  if (r < 0 && !is_retry(SSL_get_error(ssl_.get(), r))) return fail_from_ssl("SSL_shutdown", r);
  close_notify_sent_ = true;
  state_ = State::Closing;
  return true;
}

std::string TlsConnection::validate() const {
  const std::size_t queued = plaintext_pending();
  if (queued + plaintext_write_guarantee() != plaintext_ring_) {
    return "plaintext ring: " + std::to_string(queued) + " queued + " +
           std::to_string(plaintext_write_guarantee()) +
           " free != " + std::to_string(plaintext_ring_);
  }
  if (draining_) return "a drain is still running between calls";
  const std::size_t cipher_out = BIO_ctrl_pending(network_.get());
  if (inflight_ > cipher_out) {
    return std::to_string(inflight_) + " bytes in flight, only " + std::to_string(cipher_out) +
           " in the cipher-out ring";
  }
  if (retry_at_least_ > kMaxRecordPlaintext) return "a pending retry longer than one record";
  if (close_notify_sent_ && !close_requested_) return "close_notify sent without a request";
  if ((state_ == State::Closing || state_ == State::Closed) && !close_notify_sent_) {
    return "closing without close_notify";
  }
  if (failed() != (failure_kind_ != FailureKind::None) || failed() == error_.empty()) {
    return "failure state, kind and message disagree";
  }
  return {};
}

}  // namespace emitlab
