#include "sim/explore.h"

#include <algorithm>
#include <utility>

#include "sim/prng.h"

namespace emitlab::sim {
namespace {

constexpr std::uint32_t kMostAlternatives = 16;  // which-of-n questions: the first 16

bool is_delay(Decision d) {
  switch (d) {
    case Decision::WriteDelay:
    case Decision::Latency:
    case Decision::ReadDelay:
    case Decision::PauseLength:
    case Decision::WindowDelay:
    case Decision::HandlerDelay:
    case Decision::StreamInterval:
      return true;
    default:
      return false;
  }
}

bool is_size(Decision d) {
  return d == Decision::ReadChunk || d == Decision::StreamChunk;
}

// Yes/no questions whose cheap, common answer is yes.
bool defaults_to_yes(Decision d) {
  return d == Decision::CompletionSync || d == Decision::WindowRelease;
}

void push_unique(std::vector<std::uint64_t>& values, std::uint64_t v) {
  if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
}

}  // namespace

std::string describe_deviations(const std::vector<std::string>& words) {
  if (words.empty()) return "every answer at its default";
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : "; ") + w;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The enumerating source

std::uint32_t Explorer::Source::choose(Decision label, std::uint32_t n, std::uint32_t) {
  std::vector<std::uint64_t> values;
  if (n == 2) {
    values = defaults_to_yes(label) ? std::vector<std::uint64_t>{1, 0}
                                    : std::vector<std::uint64_t>{0, 1};
  } else {
    for (std::uint32_t i = 0; i < std::min(n, kMostAlternatives); ++i) values.push_back(i);
  }
  return answer(label, std::move(values), 0, false);
}

std::uint32_t Explorer::Source::choose_between(Decision label, const Range& r) {
  const std::uint64_t span = r.max - r.min;  // answers are offsets from r.min
  std::vector<std::uint64_t> values;
  if (is_size(label)) {
    values = {span, 0, span / 2};
  } else if (is_delay(label)) {
    values = {0, span};
    if (world_ != nullptr) {
      world_->pending_offsets(offsets_);
      for (std::uint64_t o : offsets_) {
        // Landing just before or just after a pending event orders the new one around it.
        for (std::uint64_t v : {o - 1, o + 1}) {
          if (o >= 1 && v >= r.min && v <= r.max) push_unique(values, v - r.min);
        }
      }
    }
  } else {
    values = {0, span};
  }
  std::vector<std::uint64_t> unique;
  for (auto v : values) push_unique(unique, v);
  return answer(label, std::move(unique), r.min, true);
}

std::uint32_t Explorer::Source::answer(Decision label, std::vector<std::uint64_t> values,
                                       std::uint64_t base, bool range) {
  const std::uint64_t position = asked_++;
  const bool held =
      std::find(limits_->hold.begin(), limits_->hold.end(), label) != limits_->hold.end() ||
      (world_ != nullptr && world_->handshaking());
  if (held) values.resize(1);
  Question q{position, label, std::move(values), base, range};
  const auto& node = *node_;
  if (next_deviation_ < node.size() && node[next_deviation_].position == position) {
    const Deviation& d = node[next_deviation_++];
    if (d.value >= q.values.size()) {
      why_ = "question " + std::to_string(position + 1) + " (" + std::string(to_string(label)) +
             ") has " + std::to_string(q.values.size()) + " values, the schedule wants value " +
             std::to_string(d.value);
      return kNoAnswer;
    }
    const auto index = static_cast<std::uint32_t>(q.values[d.value]);
    chosen_.push_back(std::move(q));
    return index;
  }
  const auto index = static_cast<std::uint32_t>(q.values.front());
  if (next_deviation_ < node.size() || remaining_ == 0 || cut_ || q.values.size() < 2) {
    return index;
  }
  if (limits_->max_depth != 0 && position >= limits_->max_depth) return index;
  std::uint64_t digest = 0;
  if (seen_ != nullptr && world_ != nullptr && world_->state_digest(label, digest)) {
    std::uint64_t key = mix_all(digest, checker_ ? checker_() : 0);
    key = mix_all(key, remaining_);
    key = mix_all(key, limits_->max_depth == 0 ? 0 : limits_->max_depth - position);
    if (!seen_->insert(key).second) {
      cut_ = true;  // every continuation from here was explored from the first such state
      return index;
    }
    ++new_keys_;
  }
  children_.push_back(std::move(q));
  return index;
}

std::string Explorer::Source::words(const Question& q, std::uint32_t value) const {
  const std::string head =
      std::string(to_string(q.label)) + " #" + std::to_string(q.position + 1) + " = ";
  auto show = [&](std::uint64_t v) {
    if (q.range) return std::to_string(q.base + v);
    const bool which = q.label == Decision::ReadyEvent || q.label == Decision::ResetWhich;
    if (!which) return std::string(v ? "yes" : "no");
    return "alternative " + std::to_string(v);
  };
  return head + show(q.values[value]) + " (default " + show(q.values[0]) + ")";
}

// ---------------------------------------------------------------------------------------------
// The enumeration

Explorer::Explorer(ExploreLimits limits, RunSchedule run, Poll poll)
    : limits_(std::move(limits)), run_(std::move(run)), poll_(std::move(poll)) {}

ExploreReport Explorer::explore() {
  ExploreReport report;
  for (std::uint32_t k = 0; k <= limits_.bound; ++k) {
    report.counts.k = k;
    within_subtree_ = 0;
    seen_.clear();
    if (k == 0 && limits_.shard != 0) continue;  // the root's own schedule is shard 0's
    if (!visit({}, k, 0, report)) return report;
  }
  report.exhausted = true;
  return report;
}

bool Explorer::poll(ExploreReport& report) {
  if (!poll_) return true;
  std::string why = poll_(report.counts);
  if (why.empty()) return true;
  report.stopped_by = std::move(why);
  return false;
}

bool Explorer::visit(const std::vector<Deviation>& node, std::uint32_t k, std::uint64_t subtree,
                     ExploreReport& report) {
  const auto d = static_cast<std::uint32_t>(node.size());
  const bool leaf = d == k;
  if (leaf && limits_.max_schedules != 0 && report.counts.schedules >= limits_.max_schedules) {
    report.stopped_by = "max-schedules";
    return false;
  }
  Source src;
  src.limits_ = &limits_;
  src.node_ = &node;
  src.remaining_ = k - d;
  src.seen_ = limits_.prune && d >= ExploreLimits::kSplitDepth ? &seen_ : nullptr;
  const ScheduleVerdict verdict = run_(src);
  ++report.counts.runs;
  if (leaf) {
    ++report.counts.schedules;
    if (verdict.violation) {
      FoundViolation v{
          verdict.rule, verdict.detail, verdict.token, k, {k, subtree, within_subtree_}, {}};
      std::vector<std::string> words;
      for (std::size_t i = 0; i < src.chosen_.size() && i < node.size(); ++i) {
        words.push_back(src.words(src.chosen_[i], node[i].value));
      }
      v.schedule = describe_deviations(words);
      report.violation = std::move(v);
      report.stopped_by = "violation";
      return false;
    }
    ++within_subtree_;
    return poll(report);
  }
  report.counts.distinct_states += src.new_keys_;
  if (src.cut_) ++report.counts.pruned;
  if (!poll(report)) return false;
  std::uint64_t index = 0;  // the root's children: the subtrees dealt out to shards
  std::vector<Deviation> child = node;
  child.emplace_back();
  for (const auto& q : src.children_) {
    for (std::uint32_t v = 1; v < q.values.size(); ++v) {
      if (d + 1 == ExploreLimits::kSplitDepth) {
        const std::uint64_t i = index++;
        if (i % limits_.shards != limits_.shard) continue;
        subtree = i;
        within_subtree_ = 0;
        seen_.clear();
      }
      child.back() = {q.position, v};
      if (!visit(child, k, subtree, report)) return false;
    }
  }
  return true;
}

}  // namespace emitlab::sim
