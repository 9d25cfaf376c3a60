// The flags that `run` and `compare` share, and how they make a scenario: defaults (or the
// --scenario file), then every flag the user gave on top.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "sim/scenario.h"

namespace emitlab::cli {

struct UsageError {
  std::string message;  // one line
};

struct CommonFlags {
  std::uint32_t streams = 100;
  std::uint32_t connections = 1;
  std::uint32_t concurrency = 100;
  std::uint32_t requests = 100;
  std::string body = "3";
  std::uint64_t seed = 1;
  std::string pacing;
  std::uint32_t cipher_ring = 0;
  std::string plaintext_ring;
  std::string completions;
  std::string read_chunk;
  std::string scenario_file;
  std::string mutant;
  bool print_scenario = false;
  bool quiet = false;  // no progress line on stderr

  CLI::App* cmd = nullptr;  // to tell given flags from defaults
};

struct OutputFlags {
  bool json = false;
  std::string trace;
  std::string pcap;
  std::string keylog;
};

void add_common(CLI::App& cmd, CommonFlags& f);
void add_outputs(CLI::App& cmd, OutputFlags& f);
// Throws UsageError. `pacing` is the command's default when neither a scenario file nor
// --pacing says otherwise.
sim::Scenario make_scenario(const CommonFlags& f, sim::Pacing pacing);
// Throws UsageError when --pcap and --keylog are not given together.
void check_outputs(const OutputFlags& f);

}  // namespace emitlab::cli
