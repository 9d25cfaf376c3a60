#include "sim/fault_plan.h"

namespace emitlab::sim {

std::string to_string(const AllocationAttempt& f) {
  return "allocation #" + std::to_string(f.n) + (f.reallocation ? " (realloc)" : "") +
         ": connection " + std::to_string(f.connection) + ", owner " +
         std::string(to_string(f.owner)) +
         (f.site ? ", site " + std::string(to_string(*f.site)) : std::string()) + ", pass " +
         std::to_string(f.pass) + ", " + std::to_string(f.bytes) + " bytes";
}

bool FaultPlan::take(AllocationAttempt attempt) {
  attempt.n = ++attempts_;
  if (recording_) log_.push_back(attempt);
  if (attempts_ != fail_at_) return true;
  fail_at_ = 0;  // exactly once
  injected_ = attempt;
  return false;
}

}  // namespace emitlab::sim
