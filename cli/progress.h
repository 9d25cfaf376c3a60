// The progress line of a long run: once a second on stderr, requests done of the total, rate,
// elapsed time and an estimate of what is left. The world is deterministic and never reads a
// clock; it only counts finished requests into an atomic. This thread owns the wall clock and
// reads that counter, so a run's figures cannot depend on it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

namespace emitlab::cli {

class ProgressLine {
 public:
  // Nothing is printed before kQuietSeconds have passed (short runs stay silent), nor at all
  // when `enabled` is false (--quiet).
  static constexpr double kQuietSeconds = 2.0;
  static constexpr double kIntervalSeconds = 1.0;
  static_assert(kQuietSeconds >= kIntervalSeconds);

  // `done` must outlive this object; `label` names the run (the strategy).
  ProgressLine(const std::atomic<std::uint64_t>& done, std::uint64_t total, std::string label,
               std::ostream& out, bool enabled);
  ~ProgressLine();  // stops the thread; prints nothing more
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // One line, as printed (exposed for its test): done, total, rate, elapsed, estimate.
  static std::string format(const std::string& label, std::uint64_t done, std::uint64_t total,
                            double elapsed_seconds);

 private:
  void loop();

  const std::atomic<std::uint64_t>& done_;
  std::uint64_t total_;
  std::string label_;
  std::ostream& out_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace emitlab::cli
