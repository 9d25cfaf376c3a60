// The --benchmark_out file, which must stay whole JSON. Google Benchmark writes it without checking
// a write, and a signal ends the process with the last results still buffered and the JSON cut.
// This JSON reporter checks the stream after each benchmark and at the end; with the signal
// handlers installed, SIGINT and SIGTERM end the run after the benchmark that is running, with
// the file finished as valid JSON holding the benchmarks done, and exit status 130 or 143.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

namespace emitlab::bench {

class CheckedJsonReporter final : public benchmark::JSONReporter {
 public:
  explicit CheckedJsonReporter(std::string path) : path_(std::move(path)) {}
  // A write that failed: one line naming the file on stderr, exit 1, at once (the run would
  // only fail later). A signal that arrived: the file is finished, then exit 130 or 143.
  void ReportRuns(const std::vector<Run>& reports) override;
  void Finalize() override;
  bool failed() const { return failed_; }  // after Finalize: the file is not whole

 private:
  bool flushed_whole();
  [[noreturn]] void fail_now();

  std::string path_;
  std::uint64_t benchmarks_ = 0;
  bool failed_ = false;
};

// SIGINT and SIGTERM set a flag CheckedJsonReporter reads after each benchmark; a second signal
// of the same kind ends the process as usual.
void stop_after_benchmark_on_signals();

// The value of --benchmark_out=FILE among Google Benchmark's flags, and whether its format
// (--benchmark_out_format, json unless given) is JSON.
struct OutFlag {
  std::string path;
  bool json = true;
};
OutFlag out_flag(const std::vector<char*>& args);

}  // namespace emitlab::bench
