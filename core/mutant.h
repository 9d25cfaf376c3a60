// The bug zoo: upstream's historical defects on this path, each put back into the real code as
// a fault point that is off unless a run arms it by name (FoundationDB's BUGGIFY idea: compiled
// in everywhere, armed only where a test asks). A connection is armed through its
// ConnectionConfig, never through a process global, so runs in one process stay independent
// and deterministic. Each fault point is one line in core that reads `mutant == Mutant::X`;
// the table below says, per mutant, its name, its history and the hazard it needs to show.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace emitlab {

enum class Mutant : std::uint8_t {
  None,
  InflightGateOff,        // tls drain: encrypt while a write is in flight
  WantWriteFatal,         // direct write: the tail after WANT_WRITE is dropped, not parked
  SecondDrainCursor,      // the read path drains nghttp2 past drain's parked slice
  HybridNoDrainPin,       // hybrid: gather while drain's slice is parked
  HybridGatherToDrain,    // hybrid: drain while gather's deferred NO_COPY frame is pending
  ReleaseAtCloseNoDefer,  // A3: release inside on_stream_close, before the flush
  NoWindowRedrive,        // a WINDOW_UPDATE does not request the next pass
  EarlyCloseNotify,       // close_notify with plaintext queued or a write in flight
  RefcountOnImmutable,    // references taken on immutable shared bodies
  PingAnsweredTwice,      // nghttp2's automatic PING ACK on top of the manual one
  EmitInsideCallback,     // the WINDOW_UPDATE callback runs the pass itself
};

struct MutantInfo {
  Mutant mutant;
  std::string_view name;     // what --mutant and the scenario key `mutant` take
  std::string_view history;  // the upstream commit or issue and what went wrong there
  std::string_view hazard;   // the situation a run must reach for the defect to show
  std::string_view fault;    // where the fault point sits in core
};

// Every mutant, `none` first, in declaration order: what the CLI, scenarios, the property
// suite and the explorer list.
std::span<const MutantInfo> mutant_table();
const MutantInfo& mutant_info(Mutant m);
std::string_view to_string(Mutant m);
// "none|inflight-gate-off|...": the allowed names, for error lines.
std::string mutant_names();

struct MutantParse {
  std::optional<Mutant> mutant;
  std::string error;  // one line naming the bad name and every allowed one
};
MutantParse parse_mutant(std::string_view name);

}  // namespace emitlab
