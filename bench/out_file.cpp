#include "bench/out_file.h"

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>

namespace emitlab::bench {
namespace {

std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_signal = 0;
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_stop_signal(int sig) {
  g_signal = sig;
  g_stop.store(true, std::memory_order_relaxed);
}

// stdout holds the display reporter's table; what it could not write is lost either way.
void flush_standard_streams() {
  std::cout.flush();
  std::fflush(stdout);
  std::fflush(stderr);
}

}  // namespace

bool CheckedJsonReporter::flushed_whole() {
  errno = 0;
  GetOutputStream().flush();
  return static_cast<bool>(GetOutputStream());
}

void CheckedJsonReporter::fail_now() {
  const char* why = errno != 0 ? std::strerror(errno) : "write failed";
  std::fprintf(stderr,
               "emitlab_bench: could not write --benchmark_out '%s': %s (the file is "
               "incomplete)\n",
               path_.c_str(), why);
  flush_standard_streams();
  std::_Exit(1);
}

void CheckedJsonReporter::ReportRuns(const std::vector<Run>& reports) {
  JSONReporter::ReportRuns(reports);
  ++benchmarks_;
  if (!flushed_whole()) fail_now();
  if (!g_stop.load(std::memory_order_relaxed)) return;
  JSONReporter::Finalize();
  if (!flushed_whole()) fail_now();
  std::fprintf(stderr,
               "emitlab_bench: interrupted after %llu benchmarks; '%s' holds them (valid JSON)\n",
               static_cast<unsigned long long>(benchmarks_), path_.c_str());
  flush_standard_streams();
  // Google Benchmark cannot be asked to stop: leave now, with every output already flushed.
  std::_Exit(128 + g_signal);
}

void CheckedJsonReporter::Finalize() {
  JSONReporter::Finalize();
  failed_ = !flushed_whole();
  if (failed_) fail_now();
}

void stop_after_benchmark_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

OutFlag out_flag(const std::vector<char*>& args) {
  OutFlag f;
  for (const char* a : args) {
    const std::string_view arg = a;
    constexpr std::string_view kOut = "--benchmark_out=";
    constexpr std::string_view kFormat = "--benchmark_out_format=";
    if (arg.starts_with(kOut)) f.path = std::string(arg.substr(kOut.size()));
    if (arg.starts_with(kFormat)) f.json = arg.substr(kFormat.size()) == "json";
  }
  return f;
}

}  // namespace emitlab::bench
