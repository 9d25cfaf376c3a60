#include "sim/scheduler.h"

#include <utility>

namespace emitlab::sim {

void Scheduler::at(std::uint64_t time, const Event& event) {
  instants_[time < now_ ? now_ : time].push_back(event);
  ++pending_;
  if (event.connection >= pending_of_.size()) pending_of_.resize(event.connection + 1);
  ++pending_of_[event.connection];
}

std::optional<Event> Scheduler::next() {
  if (instants_.empty()) return std::nullopt;
  auto it = instants_.begin();
  now_ = it->first;
  std::vector<Event>& due = it->second;
  const std::uint32_t i =
      chooser_->pick(Decision::ReadyEvent, static_cast<std::uint32_t>(due.size()));
  Event e = due[i];
  // Swap-remove: the order left behind is arbitrary but deterministic, and the next pick
  // decides anyway.
  due[i] = due.back();
  due.pop_back();
  if (due.empty()) instants_.erase(it);
  --pending_;
  --pending_of_[e.connection];
  ++run_;
  return e;
}

}  // namespace emitlab::sim
