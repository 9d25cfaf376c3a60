// The discrete-event loop of the world: a virtual clock in nanoseconds and the events due at
// each instant. When several events are due at the same instant, which one runs first is a
// decision (Decision::ReadyEvent); events scheduled for "now" while one runs join the instant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "sim/choice.h"

namespace emitlab::sim {

enum class EventKind : std::uint8_t {
  Start,            // the connection opens: the peer sends its ClientHello
  DeliverToServer,  // client bytes that arrived reach the server
  WriteComplete,    // the write in flight completes (if the link has room)
  PeerRead,         // the peer reads a chunk of what arrived
  WindowTick,       // stingy or withheld window credit may be released
  HandlerRespond,   // a delayed handler responds (stream, request id)
  StreamChunk,      // the next chunk of a streaming body becomes available
};

struct Event {
  EventKind kind = EventKind::Start;
  std::uint32_t connection = 0;
  std::int32_t stream = 0;
};

class Scheduler {
 public:
  explicit Scheduler(Chooser& chooser) : chooser_(&chooser) {}

  std::uint64_t now() const { return now_; }
  void at(std::uint64_t time, const Event& event);
  void after(std::uint64_t delay, const Event& event) { at(now_ + delay, event); }
  // The next event to run; advances the clock to its instant. Empty when nothing is left.
  std::optional<Event> next();
  bool empty() const { return pending_ == 0; }
  std::size_t pending() const { return pending_; }
  // Pending events of one connection: none left means nothing will happen to it again (only
  // its own events drive a connection), so the world may let it go.
  std::uint32_t pending_for(std::uint32_t connection) const {
    return connection < pending_of_.size() ? pending_of_[connection] : 0;
  }
  std::uint64_t events_run() const { return run_; }
  // Pending events by instant, each instant's in the order ReadyEvent indexes them.
  const std::map<std::uint64_t, std::vector<Event>>& pending_events() const { return instants_; }

 private:
  Chooser* chooser_;
  std::uint64_t now_ = 0;
  std::size_t pending_ = 0;
  std::uint64_t run_ = 0;
  // Instants in order; within one instant the order is decided, not kept.
  std::map<std::uint64_t, std::vector<Event>> instants_;
  std::vector<std::uint32_t> pending_of_;  // by connection
};

}  // namespace emitlab::sim
