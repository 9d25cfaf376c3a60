#include "sim/choice.h"

namespace emitlab::sim {

std::string_view to_string(Decision d) {
  static constexpr std::string_view kNames[] = {
      "ready_event",  "completion_sync", "write_delay",  "latency",          "read_chunk",
      "read_delay",   "read_pause",      "pause_length", "input_after_pass", "ping",
      "reset",        "reset_which",     "goaway",       "abrupt_close",     "window_release",
      "window_delay", "handler_delay",   "stream_chunk", "stream_interval",  "settings"};
  static_assert(std::size(kNames) == kDecisions);
  const auto i = static_cast<std::size_t>(d);
  return i < kDecisions ? kNames[i] : "?";
}

SeededChoices::SeededChoices(std::uint64_t seed) : rng_(mix_all(seed, 0x63686f69636573ULL)) {}

std::uint32_t SeededChoices::choose(Decision, std::uint32_t n, std::uint32_t odds_of_one) {
  if (n == 2 && odds_of_one != kUniform) return rng_.below(1000) < odds_of_one ? 1 : 0;
  return rng_.below(n);
}

std::uint32_t ListChoices::choose(Decision label, std::uint32_t n, std::uint32_t) {
  const std::string at = "choice " + std::to_string(next_ + 1);
  if (next_ >= recorded_.size()) {
    why_ = at + " (" + std::string(to_string(label)) + " of " + std::to_string(n) +
           ") asked after the " + std::to_string(recorded_.size()) + " recorded ones";
    return kNoAnswer;
  }
  const Choice& c = recorded_[next_++];
  // n == 0 in a recording means "not recorded" (a packed list keeps labels and indices only).
  if (c.label != label || (c.n != 0 && c.n != n) || c.index >= n) {
    why_ = at + ": recorded " + std::string(to_string(c.label)) + " " + std::to_string(c.index) +
           (c.n != 0 ? " of " + std::to_string(c.n) : std::string{}) + ", asked " +
           std::string(to_string(label)) + " of " + std::to_string(n);
    return kNoAnswer;
  }
  return c.index;
}

void ChoiceRecord::add(const Choice& c, std::size_t keep_limit) {
  ++count;
  digest = mix_all(mix_all(mix_all(digest, static_cast<std::uint64_t>(c.label)), c.n), c.index);
  if (!complete) return;
  if (list.size() >= keep_limit) {
    complete = false;
    list.clear();
    list.shrink_to_fit();
    return;
  }
  list.push_back(c);
}

std::uint32_t Chooser::ask(Decision label, std::uint32_t n, std::uint32_t odds_of_one,
                           const Range* range) {
  if (diverged()) return 0;
  const std::uint32_t index = range != nullptr ? source_->choose_between(label, *range)
                                               : source_->choose(label, n, odds_of_one);
  if (index >= n) {
    divergence_ = index == kNoAnswer ? source_->explain()
                                     : "the choice source answered " + std::to_string(index) +
                                           " of " + std::to_string(n);
    if (divergence_.empty()) divergence_ = "the choice source gave no answer";
    return 0;
  }
  record_.add({label, n, index}, keep_limit_);
  return index;
}

std::uint32_t Chooser::pick(Decision label, std::uint32_t n) {
  return n <= 1 ? 0 : ask(label, n, kUniform);
}

bool Chooser::chance(Decision label, std::uint32_t permille) {
  if (permille == 0) return false;
  if (permille >= 1000) return true;
  return ask(label, 2, permille) == 1;
}

std::uint64_t Chooser::between(Decision label, const Range& r) {
  if (r.max <= r.min) return r.min;
  const std::uint64_t span = r.max - r.min + 1;  // scenarios keep it within 32 bits
  return r.min + ask(label, static_cast<std::uint32_t>(span), kUniform, &r);
}

}  // namespace emitlab::sim
