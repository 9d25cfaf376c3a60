// Progress of a benchmark run on stderr: one line per finished benchmark with an estimate of
// what is left (the wall time per finished benchmark so far, times those left). bench.sh counts
// the benchmarks first (--benchmark_list_tests) and passes --emitlab_progress_total=N.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace emitlab::bench {

class ProgressReporter final : public benchmark::ConsoleReporter {
 public:
  explicit ProgressReporter(std::uint64_t total);
  void ReportRuns(const std::vector<Run>& reports) override;

 private:
  std::uint64_t total_;
  std::uint64_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
};

std::string duration_text(double seconds);  // "42 s", "3 min 07 s"

}  // namespace emitlab::bench
