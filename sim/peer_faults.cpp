#include "sim/peer_faults.h"

#include <cstdint>

#include "sim/sim_peer.h"
#include "sim/world_context.h"

namespace emitlab::sim {

bool PeerFaults::after_read() {
  const auto& p = w_.scenario.peer;
  if (peer_.requests_finished()) return false;
  if (w_.chooser.chance(Decision::AbruptClose, p.abrupt_close_permille)) return true;
  if (w_.chooser.chance(Decision::Ping, p.ping_permille)) peer_.send_ping();
  if (w_.chooser.chance(Decision::Settings, p.settings_permille)) peer_.send_settings();
  if (w_.chooser.chance(Decision::Reset, p.reset_permille)) {
    const auto candidates = peer_.streams_in_progress();
    if (!candidates.empty()) {
      const auto i =
          w_.chooser.pick(Decision::ResetWhich, static_cast<std::uint32_t>(candidates.size()));
      peer_.cancel_stream(candidates[i]);
    }
  }
  for (; goaway_seen_completed_ < peer_.responses_completed(); ++goaway_seen_completed_) {
    if (w_.chooser.chance(Decision::Goaway, p.goaway_permille)) {
      peer_.send_goaway();
      goaway_seen_completed_ = peer_.responses_completed();
      break;
    }
  }
  if (p.window == WindowPolicy::Stingy) peer_.release_window(p.stingy_increment);
  ensure_window_tick();
  return false;
}

void PeerFaults::ensure_window_tick() {
  const auto policy = w_.scenario.peer.window;
  if ((policy != WindowPolicy::Stingy && policy != WindowPolicy::Withheld) ||
      window_tick_scheduled_ || stopped_ || !peer_.window_credit_pending()) {
    return;
  }
  window_tick_scheduled_ = true;
  w_.scheduler.after(w_.chooser.between(Decision::WindowDelay, w_.scenario.peer.window_delay_ns),
                     {EventKind::WindowTick, index_, 0});
}

bool PeerFaults::window_tick() {
  window_tick_scheduled_ = false;
  if (stopped_) return false;
  const auto& p = w_.scenario.peer;
  if (p.window == WindowPolicy::Stingy) {
    peer_.release_window(p.stingy_increment);
  } else if (w_.chooser.chance(Decision::WindowRelease, 500)) {
    peer_.release_window(UINT64_MAX);
  }
  return true;
}

}  // namespace emitlab::sim
