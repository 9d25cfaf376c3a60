// The counting allocator's fault plan (sim/counting_allocator.h): numbers every allocation
// attempt of one allocator, fails the n-th on purpose (fail_at) and remembers where it hit, and
// can log every attempt so a sweep compares its runs with a clean one. Not thread-safe: the
// counting allocator calls it under its lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/allocator.h"

namespace emitlab::sim {

// One counted allocation attempt: where fail_at's allocation hit, or (when recording) any.
struct AllocationAttempt {
  std::uint64_t n = 0;  // 1-based attempt number in its allocator
  std::uint32_t connection = 0;
  AllocOwner owner = AllocOwner::Emitter;
  std::optional<AllocSite> site;
  std::uint64_t pass = 0;
  std::uint64_t bytes = 0;
  bool reallocation = false;
  bool operator==(const AllocationAttempt&) const = default;
};
using InjectedFailure = AllocationAttempt;
std::string to_string(const AllocationAttempt& attempt);

class FaultPlan {
 public:
  // The n-th attempt (1-based, over every owner) fails, once. 0 disarms; an n already passed
  // never fires.
  void fail_at(std::uint64_t n) { fail_at_ = n; }
  void record(bool on) { recording_ = on; }

  // Counts one attempt (`attempt.n` is filled in); false when it is the one to fail.
  bool take(AllocationAttempt attempt);

  std::uint64_t attempts_so_far() const { return attempts_; }  // the failed one included
  const std::optional<InjectedFailure>& injected() const { return injected_; }
  const std::vector<AllocationAttempt>& log() const { return log_; }

 private:
  std::uint64_t attempts_ = 0;
  std::uint64_t fail_at_ = 0;
  std::optional<InjectedFailure> injected_;
  bool recording_ = false;
  std::vector<AllocationAttempt> log_;
};

}  // namespace emitlab::sim
