// What the world makes one connection's peer do besides reading (the scenario's `peer` block):
// PINGs, empty SETTINGS, mid-body resets, GOAWAY, abrupt closes, and the window credit of the
// stingy and withheld policies, released after reads and at chosen ticks. Each is a choice
// (sim/choice.h), asked in a fixed order after every read.
#pragma once

#include <cstdint>

namespace emitlab::sim {

struct WorldContext;
class SimPeer;

class PeerFaults {
 public:
  PeerFaults(WorldContext& world, std::uint32_t index, SimPeer& peer)
      : w_(world), index_(index), peer_(peer) {}

  // After each read. True: the peer drops the connection now (nothing else was done).
  [[nodiscard]] bool after_read();
  // EventKind::WindowTick. True when credit was released (then flush the peer's output and call
  // ensure_window_tick()); false once the connection dropped.
  [[nodiscard]] bool window_tick();
  // Schedules a window tick while stingy or withheld credit is pending.
  void ensure_window_tick();
  // The connection dropped: no more ticks.
  void stop() { stopped_ = true; }

  bool window_tick_scheduled() const { return window_tick_scheduled_; }
  std::uint32_t goaway_seen_completed() const { return goaway_seen_completed_; }

 private:
  WorldContext& w_;
  std::uint32_t index_;
  SimPeer& peer_;
  bool stopped_ = false;
  bool window_tick_scheduled_ = false;
  std::uint32_t goaway_seen_completed_ = 0;  // completed responses already given a GOAWAY chance
};

}  // namespace emitlab::sim
