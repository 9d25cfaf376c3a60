#include "cli/progress.h"

#include <chrono>
#include <cmath>
#include <cstdio>

namespace emitlab::cli {
namespace {

std::string seconds_text(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%.0f min %02.0f s", std::floor(s / 60), std::fmod(s, 60));
  } else {
    std::snprintf(buf, sizeof buf, "%.0f h %02.0f min", std::floor(s / 3600),
                  std::floor(std::fmod(s, 3600) / 60));
  }
  return buf;
}

}  // namespace

ProgressLine::ProgressLine(const std::atomic<std::uint64_t>& done, std::uint64_t total,
                           std::string label, std::ostream& out, bool enabled)
    : done_(done), total_(total), label_(std::move(label)), out_(out) {
  if (enabled) thread_ = std::thread([this] { loop(); });
}

ProgressLine::~ProgressLine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string ProgressLine::format(const std::string& label, std::uint64_t done, std::uint64_t total,
                                 double elapsed) {
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  char buf[160];
  std::snprintf(buf, sizeof buf, "emitlab: %s%s%llu/%llu requests, %.0f/s, %s elapsed",
                label.c_str(), label.empty() ? "" : ": ", static_cast<unsigned long long>(done),
                static_cast<unsigned long long>(total), rate, seconds_text(elapsed).c_str());
  std::string line = buf;
  if (rate > 0 && done < total) {
    line += ", about " + seconds_text(static_cast<double>(total - done) / rate) + " left";
  }
  return line;
}

void ProgressLine::loop() {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto next = start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(kQuietSeconds));
  const auto interval =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kIntervalSeconds));
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_until(lock, next, [this] { return stop_; })) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    out_ << format(label_, done_.load(std::memory_order_relaxed), total_, elapsed) << std::endl;
    next += interval;
  }
}

}  // namespace emitlab::cli
