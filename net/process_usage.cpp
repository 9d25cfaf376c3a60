#include "net/process_usage.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace emitlab::net {
namespace {

std::uint64_t micros(const timeval& t) {
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(t.tv_usec);
}

std::uint64_t write_syscalls() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "syscw:") return value;
  }
  return 0;
}

}  // namespace

ProcessUsage process_usage() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  ProcessUsage u;
  u.user_us = micros(ru.ru_utime);
  u.system_us = micros(ru.ru_stime);
  u.cpu_us = u.user_us + u.system_us;
  u.minor_faults = static_cast<std::uint64_t>(ru.ru_minflt);
  u.major_faults = static_cast<std::uint64_t>(ru.ru_majflt);
  u.write_syscalls = write_syscalls();
  return u;
}

ProcessUsage operator-(const ProcessUsage& now, const ProcessUsage& start) {
  ProcessUsage d;
  d.cpu_us = now.cpu_us - start.cpu_us;
  d.user_us = now.user_us - start.user_us;
  d.system_us = now.system_us - start.system_us;
  d.minor_faults = now.minor_faults - start.minor_faults;
  d.major_faults = now.major_faults - start.major_faults;
  d.write_syscalls = now.write_syscalls - start.write_syscalls;
  return d;
}

}  // namespace emitlab::net
