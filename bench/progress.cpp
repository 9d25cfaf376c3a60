#include "bench/progress.h"

#include <cmath>
#include <cstdio>

namespace emitlab::bench {

ProgressReporter::ProgressReporter(std::uint64_t total)
    : total_(total), start_(std::chrono::steady_clock::now()) {}

void ProgressReporter::ReportRuns(const std::vector<Run>& reports) {
  benchmark::ConsoleReporter::ReportRuns(reports);
  for (const Run& run : reports) {
    // A benchmark is finished with its last repetition's iteration run (aggregates follow it).
    if (run.run_type != Run::RT_Iteration || run.repetition_index + 1 < run.repetitions) continue;
    ++done_;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double left =
        done_ < total_ ? elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_)
                       : 0.0;
    std::fprintf(stderr, "bench: %llu/%llu %s; %s so far, about %s left\n",
                 static_cast<unsigned long long>(done_), static_cast<unsigned long long>(total_),
                 run.benchmark_name().c_str(), duration_text(elapsed).c_str(),
                 duration_text(left).c_str());
  }
}

std::string duration_text(double seconds) {
  const long s = std::lround(seconds);
  if (s < 60) return std::to_string(s) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld min %02ld s", s / 60, s % 60);
  return buf;
}

}  // namespace emitlab::bench
