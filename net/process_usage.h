// What the process spent, for per-response figures: CPU time and page faults (getrusage) and
// write syscalls (/proc/self/io syscw, which counts write, writev and sendmsg alike).
#pragma once

#include <cstdint>

namespace emitlab::net {

struct ProcessUsage {
  std::uint64_t cpu_us = 0;  // user + system
  std::uint64_t user_us = 0;
  std::uint64_t system_us = 0;
  std::uint64_t minor_faults = 0;
  std::uint64_t major_faults = 0;
  std::uint64_t write_syscalls = 0;  // 0 when /proc/self/io cannot be read
};

ProcessUsage process_usage();
// Counts since `start` (every field of `now` is at least `start`'s).
ProcessUsage operator-(const ProcessUsage& now, const ProcessUsage& start);

}  // namespace emitlab::net
