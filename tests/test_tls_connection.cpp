// TlsConnection on its own (core/tls_connection.h): the rings, the park after WANT_WRITE, the
// close_notify gate, completion spans and failure kinds, against a plain OpenSSL client
// (tests/support/tls_harness.h). Every case checks validate() on the way.
#define BOOST_TEST_MODULE test_tls_connection
#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/ssl_errors.h"
#include "core/wire_limits.h"
#include "support/tls_harness.h"

using emitlab::CopySite;
using emitlab::FailureKind;
using emitlab::Rule;
using emitlab::TlsConnection;
using emitlab::TlsRingConfig;
using emitlab::testing::as_text;
using emitlab::testing::pattern;
using emitlab::testing::TlsHarness;

namespace {

TlsRingConfig one_record_ring() {
  TlsRingConfig rings;
  rings.cipher_out_records = 1;  // one record slot: a second record must wait (WANT_WRITE)
  return rings;
}

}  // namespace

BOOST_AUTO_TEST_CASE(handshake_then_bytes_both_ways) {
  TlsHarness h;
  BOOST_TEST(h.conn().validate() == "");
  h.handshake();
  BOOST_TEST((h.conn().state() == TlsConnection::State::Established));
  BOOST_TEST(h.conn().validate() == "");
  const auto hello = pattern(100);
  BOOST_TEST(h.conn().write_direct(hello));
  BOOST_TEST(!h.in_flight());  // write_direct encrypts; only the drain ships
  h.conn().drain();
  BOOST_TEST(h.in_flight());
  BOOST_TEST(h.conn().write_in_flight());
  BOOST_TEST(h.in_flight_size() == 100 + emitlab::kTls13RecordOverhead);
  h.complete();
  BOOST_TEST((h.client_read() == as_text(hello)));
  h.client_write("from the client");
  BOOST_TEST(as_text(h.received) == "from the client");
  BOOST_TEST(!h.overlapped());
  BOOST_TEST(h.log_.clean());
  BOOST_TEST(h.conn().validate() == "");
}

BOOST_AUTO_TEST_CASE(clear_ssl_errors_empties_the_thread_queue) {
  emitlab::clear_ssl_errors();
  BOOST_TEST(ERR_peek_error() == 0UL);  // an empty queue stays empty
  ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
  ERR_raise(ERR_LIB_SSL, SSL_R_BAD_PACKET);
  BOOST_TEST(ERR_GET_REASON(ERR_peek_error()) == SSL_R_BAD_LENGTH);
  emitlab::clear_ssl_errors();
  BOOST_TEST(ERR_peek_error() == 0UL);
  BOOST_TEST(ERR_peek_last_error() == 0UL);
}

BOOST_AUTO_TEST_CASE(an_error_left_in_the_thread_queue_does_not_fail_the_next_read) {
  TlsHarness h;
  h.handshake();
  // A failure earlier on this thread that nobody collected: the read that ends in WANT_READ
  // would take it for its own (SSL_ERROR_SSL) unless the queue is emptied before the call.
  ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
  h.client_write("after a stale error");
  BOOST_TEST(as_text(h.received) == "after a stale error");
  BOOST_TEST((h.conn().state() == TlsConnection::State::Established));
  BOOST_TEST(h.log_.clean());
  BOOST_TEST(h.conn().validate() == "");
}

BOOST_AUTO_TEST_CASE(plaintext_ring_is_encrypted_in_order_one_span_at_a_time) {
  TlsHarness h;
  h.handshake();
  const auto data = pattern(30000);  // within the 32 KiB plaintext ring
  BOOST_TEST(h.conn().write_plaintext({data.data(), 20000}, CopySite::PlaintextRing));
  BOOST_TEST(h.conn().plaintext_pending() == 20000U);
  BOOST_TEST(h.conn().validate() == "");
  BOOST_TEST(h.conn().write_plaintext({data.data() + 20000, data.size() - 20000},
                                      CopySite::PlaintextRing));
  h.conn().drain();
  h.complete_all();
  BOOST_TEST((h.client_read() == as_text(data)));
  BOOST_TEST(h.conn().plaintext_pending() == 0U);
  BOOST_TEST(!h.overlapped());
  BOOST_TEST(h.record_.copied[static_cast<std::size_t>(CopySite::PlaintextRing)] == data.size());
  BOOST_TEST(h.conn().validate() == "");
}

BOOST_AUTO_TEST_CASE(want_write_parks_the_tail_and_the_drain_sends_it_next) {
  TlsHarness h(one_record_ring());
  h.handshake();
  const auto data = pattern(40000);
  BOOST_TEST(h.conn().write_direct(data));
  // One record fitted the one-record cipher-out ring; the rest waits in the plaintext ring.
  BOOST_TEST(h.record_.parks == 1U);
  BOOST_TEST(h.record_.parked_bytes == 40000U - emitlab::kMaxRecordPlaintext);
  BOOST_TEST(h.conn().plaintext_pending() == 40000U - emitlab::kMaxRecordPlaintext);
  BOOST_TEST(h.conn().validate() == "");
  // P3: a direct write behind parked bytes parks too, so the order holds.
  const auto more = pattern(10);
  BOOST_TEST(h.conn().write_direct(more));
  BOOST_TEST(h.record_.parks == 2U);
  h.conn().drain();
  h.complete_all();
  BOOST_TEST((h.client_read() == as_text(data) + as_text(more)));
  BOOST_TEST(h.log_.clean());
  BOOST_TEST(h.conn().validate() == "");
}

BOOST_AUTO_TEST_CASE(close_notify_waits_for_the_write_in_flight_and_the_ring) {
  TlsHarness h(one_record_ring());
  h.handshake();
  const auto data = pattern(30000);
  BOOST_TEST(h.conn().write_direct(data));
  h.conn().drain();
  BOOST_TEST(h.in_flight());
  h.conn().close_gracefully();
  BOOST_TEST((h.conn().state() == TlsConnection::State::Established));  // gated: data ahead
  BOOST_TEST(h.conn().plaintext_pending() > 0U);
  // The first record out: the parked tail is encrypted, and with the plaintext ring empty and
  // nothing in flight close_notify follows it into the cipher-out ring, behind the data.
  h.complete();
  BOOST_TEST((h.conn().state() == TlsConnection::State::Closing));
  BOOST_TEST(h.conn().plaintext_pending() == 0U);
  BOOST_TEST(h.in_flight());
  h.complete();
  BOOST_TEST((h.conn().state() == TlsConnection::State::Closed));
  BOOST_TEST((h.client_read() == as_text(data)));
  BOOST_TEST(h.close_notify_seen);
  BOOST_TEST(h.log_.clean());
  BOOST_TEST(h.conn().validate() == "");
  // Ciphertext after the close is dropped and counted, not fed.
  h.client_write("late");
  BOOST_TEST(h.conn().ignored_after_close() > 0U);
  BOOST_TEST(h.received.empty());
}

BOOST_AUTO_TEST_CASE(close_notify_waits_for_a_ring_that_needs_several_records) {
  // Three records over a one-record ring: after the first completion one record is encrypted
  // and the rest still waits in the plaintext ring with nothing in flight, so only the
  // plaintext ring holds close_notify back.
  TlsHarness h(one_record_ring());
  h.handshake();
  const auto data = pattern(40000);
  BOOST_TEST(h.conn().write_direct(data));
  h.conn().drain();
  h.conn().close_gracefully();
  h.complete();
  BOOST_TEST(h.conn().plaintext_pending() > 0U);
  BOOST_TEST((h.conn().state() == TlsConnection::State::Established));
  h.complete_all();
  BOOST_TEST((h.conn().state() == TlsConnection::State::Closed));
  BOOST_TEST((h.client_read() == as_text(data)));
  BOOST_TEST(h.close_notify_seen);
  BOOST_TEST(h.log_.clean());
}

BOOST_AUTO_TEST_CASE(early_close_notify_mutant_is_reported_as_p9) {
  TlsHarness h;
  h.conn().arm(emitlab::Mutant::EarlyCloseNotify);
  h.handshake();
  BOOST_TEST(h.conn().write_direct(pattern(100)));
  h.conn().drain();
  h.conn().close_gracefully();
  BOOST_REQUIRE(h.log_.violations().size() == 1U);
  BOOST_TEST((h.log_.violations()[0].rule == Rule::CloseNotifyAfterData));
  BOOST_TEST((h.conn().failure_kind() == FailureKind::Invariant));
}

BOOST_AUTO_TEST_CASE(a_completion_must_name_exactly_the_span_in_flight) {
  TlsHarness h;
  h.handshake();
  BOOST_TEST(h.conn().write_direct(pattern(500)));
  h.conn().drain();
  const std::size_t span = h.in_flight_size();
  h.complete(span - 1);
  BOOST_TEST(h.conn().failed());
  BOOST_TEST((h.conn().failure_kind() == FailureKind::Invariant));
  BOOST_REQUIRE(h.log_.violations().size() == 1U);
  BOOST_TEST((h.log_.violations()[0].rule == Rule::CompletionSpan));
  BOOST_TEST(h.conn().validate() == "");  // a failed connection is still consistent
}

BOOST_AUTO_TEST_CASE(no_encryption_while_a_span_is_in_flight) {
  TlsHarness h;
  h.handshake();
  BOOST_TEST(h.conn().write_direct(pattern(500)));
  h.conn().drain();
  BOOST_TEST(!h.conn().write_direct(pattern(10)));  // P2: the caller broke the gate
  BOOST_REQUIRE(!h.log_.violations().empty());
  BOOST_TEST((h.log_.violations()[0].rule == Rule::NoEncryptWhileInFlight));
}

BOOST_AUTO_TEST_CASE(failures_carry_their_kind) {
  {
    TlsHarness h;
    const std::vector<std::uint8_t> junk(64, 0x17);  // not a ClientHello
    h.conn().feed(junk);
    BOOST_TEST((h.conn().failure_kind() == FailureKind::Tls));
    BOOST_TEST(!h.conn().error().empty());
  }
  {
    TlsHarness h;
    h.handshake();
    h.accept_input = false;
    h.client_write("rejected");
    BOOST_TEST((h.conn().failure_kind() == FailureKind::SessionRejected));
  }
  {
    TlsHarness h;
    h.handshake();
    const auto big = pattern(TlsRingConfig{}.plaintext_ring + 1);
    BOOST_TEST(!h.conn().write_plaintext(big, CopySite::PlaintextRing));
    BOOST_TEST((h.conn().failure_kind() == FailureKind::PlaintextRingFull));
  }
  {
    TlsHarness h;
    h.conn().fail("from outside core");
    BOOST_TEST((h.conn().failure_kind() == FailureKind::Other));
    h.conn().fail(FailureKind::Transport, "second");  // the first failure wins
    BOOST_TEST(h.conn().error() == "from outside core");
  }
}
