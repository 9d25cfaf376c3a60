// Runs a command line in a child process and returns its exit status and standard output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace emitlab::testing {

struct Outcome {
  int status;  // the exit status, or -1 when the child did not exit normally
  std::string out;
};

inline Outcome shell(const std::string& cmd) {
  std::FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + cmd);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int raw = pclose(pipe);
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, out};
}

}  // namespace emitlab::testing
