#include "core/mutant.h"

#include <array>

namespace emitlab {
namespace {

// One row per mutant, in enum order (checked below).
constexpr std::array kTable{
    MutantInfo{Mutant::None, "none", "no fault point armed", "-", "-"},
    MutantInfo{Mutant::InflightGateOff, "inflight-gate-off",
               "59a4da2 (#23): SSL_write into the cipher-out ring while libuv held a slot of it; "
               "peers saw \"bad record mac\" on record 2+ (0 RPS at c=256)",
               "a write in flight when the drain wants to encrypt",
               "TlsConnection::drain, the inflight gate of the encrypt step"},
    MutantInfo{Mutant::WantWriteFatal, "want-write-fatal",
               "597a474/e8f8063, before #29 (5c0c211): the gather flush gave up on WANT_WRITE "
               "and the unwritten tail was thrown away: truncated body, hung connection",
               "WANT_WRITE mid-pass (a one-record cipher ring) with a tail to park",
               "TlsConnection::write_direct, the park on WANT_WRITE"},
    MutantInfo{Mutant::SecondDrainCursor, "second-drain-cursor",
               "#219 (1f238a1, bf7e86b): the read path drained mem_send past the queued output; "
               "bytes were lost mid-frame and the rest overtook the queued response",
               "drain's slice parked when peer input arrives",
               "ServerConnection::on_app_data, a mem_send drain after the feed"},
    MutantInfo{Mutant::HybridNoDrainPin, "hybrid-no-drain-pin",
               "#224 (18f51b2): hybrid switched to gather while drain's parked slice held bytes "
               "nghttp2 counted as sent: a truncated frame followed by a valid header",
               "drain's slice parked when a large stream opens",
               "HybridEmitter::run_pass, the drain pin"},
    MutantInfo{Mutant::HybridGatherToDrain, "hybrid-gather-to-drain",
               "fact sheet 2.5 (unreported, the unpinned direction at HEAD): drain's mem_send "
               "meets gather's deferred NO_COPY frame with no emit state: CALLBACK_FAILURE",
               "a NO_COPY frame deferred at the cap when the last large stream closes",
               "HybridEmitter::run_pass, the gather pin"},
    MutantInfo{Mutant::ReleaseAtCloseNoDefer, "release-at-close-no-defer",
               "fact sheet 2.4 (why body refs exist): on_stream_close fires inside session_send "
               "and drops the body while gather entries still point into it",
               "a stream closing inside a gather pass with A3",
               "AtCloseRelease::on_stream_close, the deferral"},
    MutantInfo{Mutant::NoWindowRedrive, "no-window-redrive",
               "a057120 (h2/024): buffered bodies over 64K hung on TLS after the first window: "
               "WINDOW_UPDATE did not re-drive the emit",
               "a flow-control window exhausted, then reopened with no write in flight",
               "H2ServerSession: the WINDOW_UPDATE callback and the feed's redrive"},
    MutantInfo{Mutant::EarlyCloseNotify, "early-close-notify",
               "59a4da2: graceful close sent close_notify while plaintext was queued or a write "
               "was in flight; it overtook unsent application bytes",
               "shutdown while the plaintext ring holds bytes or a write is in flight",
               "TlsConnection::maybe_send_close_notify, the wait"},
    MutantInfo{Mutant::RefcountOnImmutable, "refcount-on-immutable",
               "a7b3102: GC_ADDREF on interned strings (read-only shared memory under ZTS with "
               "opcache): the increment segfaulted; their release is a no-op",
               "an immutable shared body in a gather pass", "release_policy.cpp, retain_counted"},
    MutantInfo{Mutant::PingAnsweredTwice, "ping-answered-twice",
               "#222 (bf7e86b): nghttp2's automatic PING ACK and the manual one both went out",
               "a PING from the peer", "H2ServerSession, no_auto_ping_ack"},
    MutantInfo{Mutant::EmitInsideCallback, "emit-inside-callback",
               "2ac082d: window-open callbacks ran the emit themselves, so session_send "
               "re-entered nghttp2 from inside its own callback",
               "a WINDOW_UPDATE from the peer",
               "ServerConnection::on_window_update, the pass run inside the callback"},
};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<std::size_t>(kTable[i].mutant) != i) return false;
  }
  return true;
}
static_assert(in_enum_order(), "kTable rows follow the Mutant enum");
static_assert(static_cast<std::size_t>(Mutant::EmitInsideCallback) + 1 == kTable.size(),
              "every mutant has a row");

}  // namespace

std::span<const MutantInfo> mutant_table() {
  return kTable;
}

const MutantInfo& mutant_info(Mutant m) {
  return kTable.at(static_cast<std::size_t>(m));
}

std::string_view to_string(Mutant m) {
  return mutant_info(m).name;
}

std::string mutant_names() {
  std::string out;
  for (const auto& row : kTable) out += (out.empty() ? "" : "|") + std::string(row.name);
  return out;
}

MutantParse parse_mutant(std::string_view name) {
  for (const auto& row : kTable) {
    if (row.name == name) return {row.mutant, {}};
  }
  return {std::nullopt, "unknown mutant '" + std::string(name) + "': expected " + mutant_names()};
}

}  // namespace emitlab
