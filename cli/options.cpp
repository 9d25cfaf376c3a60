#include "cli/options.h"

#include <fstream>
#include <sstream>

#include "core/byte_size.h"
#include "core/mutant.h"
#include "sim/json_reader.h"

namespace emitlab::cli {
namespace {

bool given(const CommonFlags& f, const char* name) {
  return f.cmd->count(name) > 0;
}

std::uint64_t size_flag(const std::string& flag, const std::string& text, std::uint64_t lo,
                        std::uint64_t hi) {
  const auto v = parse_byte_size(text);
  if (!v || *v < lo || *v > hi) {
    throw UsageError{"bad " + flag + " '" + text + "': expected bytes or N with K/KiB/M/MiB, " +
                     byte_size_text(lo) + ".." + byte_size_text(hi)};
  }
  return *v;
}

sim::Scenario read_scenario_file(const std::string& path, const sim::Scenario& base) {
  // Bounded: --scenario /dev/zero stops at the limit instead of growing without end.
  const sim::FileRead file = sim::read_text_file(path, sim::kMaxScenarioBytes);
  if (!file.text) throw UsageError{"bad --scenario '" + path + "': " + file.error};
  const auto parsed = sim::parse_scenario(*file.text, base);
  if (!parsed.scenario) throw UsageError{"bad --scenario '" + path + "': " + parsed.error};
  return *parsed.scenario;
}

void apply_workload(const CommonFlags& f, sim::Scenario& s) {
  const bool shape =
      given(f, "--connections") || given(f, "--concurrency") || given(f, "--requests");
  if (given(f, "--streams")) {
    if (shape) {
      throw UsageError{
          "--streams N is shorthand for --connections 1 --concurrency N "
          "--requests N: give one or the other"};
    }
    s.workload.connections = 1;
    s.workload.concurrency = std::min<std::uint32_t>(f.streams, 100);
    s.workload.requests = f.streams;
  }
  if (given(f, "--connections")) s.workload.connections = f.connections;
  if (given(f, "--concurrency")) s.workload.concurrency = f.concurrency;
  if (given(f, "--requests")) s.workload.requests = f.requests;
  if (given(f, "--body")) {
    const auto body = parse_byte_size(f.body);
    if (!body)
      throw UsageError{"bad --body '" + f.body + "': expected bytes or N with K/KiB/M/MiB"};
    s.workload.body = {*body, *body};
  }
  if (given(f, "--pacing")) {
    s.workload.pacing = f.pacing == "lockstep" ? sim::Pacing::Lockstep : sim::Pacing::ClosedLoop;
  }
}

void apply_link(const CommonFlags& f, sim::Scenario& s) {
  if (given(f, "--seed")) s.seed = f.seed;
  if (given(f, "--mutant")) {
    const MutantParse m = parse_mutant(f.mutant);
    if (!m.mutant) {
      throw UsageError{"bad --mutant '" + f.mutant + "': expected one of " + mutant_names()};
    }
    s.mutant = *m.mutant;
  }
  if (given(f, "--cipher-ring")) s.rings.cipher_out_records = f.cipher_ring;
  if (given(f, "--plaintext-ring")) {
    s.rings.plaintext = size_flag("--plaintext-ring", f.plaintext_ring, 4096, 16 << 20);
  }
  if (given(f, "--completions")) {
    s.link.completions = f.completions == "sync"    ? sim::CompletionMode::Sync
                         : f.completions == "async" ? sim::CompletionMode::Async
                                                    : sim::CompletionMode::Mixed;
  }
  if (given(f, "--read-chunk")) {
    const auto n = size_flag("--read-chunk", f.read_chunk, 1, 1 << 20);
    s.link.read_chunk = {n, n};
  }
}

}  // namespace

void add_common(CLI::App& cmd, CommonFlags& f) {
  f.cmd = &cmd;
  cmd.add_option("--streams", f.streams,
                 "shorthand for --connections 1 --concurrency min(N,100) --requests N")
      ->check(CLI::Range(1U, 100000U));
  cmd.add_option("--connections", f.connections, "connections, each with its own TLS pair and peer")
      ->check(CLI::Range(1U, 10000U));
  cmd.add_option("--concurrency", f.concurrency, "streams open at once per connection (h2load -m)")
      ->check(CLI::Range(1U, 100U));
  cmd.add_option("--requests", f.requests, "requests in total over all connections (h2load -n)")
      ->check(CLI::Range(1U, 10000000U));
  cmd.add_option("--body", f.body, "body size of every response: bytes, or N with K/KiB/M/MiB");
  cmd.add_option("--seed", f.seed, "seed of the world (choices, TLS randomness, body bytes)");
  cmd.add_option("--pacing", f.pacing,
                 "lockstep: batches, server output independent of timing; closed-loop: h2load's")
      ->check(CLI::IsMember({"lockstep", "closed-loop"}));
  cmd.add_option("--cipher-ring", f.cipher_ring,
                 "cipher-out ring of K x 17408 bytes, K = 1..16 (default 64 KiB)")
      ->check(CLI::Range(1U, 16U));
  cmd.add_option("--plaintext-ring", f.plaintext_ring, "plaintext ring size (default 32 KiB)");
  cmd.add_option("--completions", f.completions,
                 "sync: inside the submit; async: after a delay plus size over bandwidth; mixed")
      ->check(CLI::IsMember({"sync", "async", "mixed"}));
  cmd.add_option("--read-chunk", f.read_chunk, "bytes the peer reads at once (default 1K..64K)");
  cmd.add_option("--scenario", f.scenario_file, "scenario JSON file; flags given override it");
  cmd.add_option("--mutant", f.mutant,
                 "arm one fault point of the bug zoo on every connection (README: Mutants)");
  cmd.add_flag("--quiet", f.quiet, "no progress line on stderr (runs over 2 s print one a second)");
  cmd.add_flag("--print-scenario", f.print_scenario,
               "print the canonical scenario of the run and exit");
}

void add_outputs(CLI::App& cmd, OutputFlags& f) {
  cmd.add_flag("--json", f.json, "print JSON");
  cmd.add_option("--trace", f.trace, "write JSON lines of passes, writes, reads and frames");
  cmd.add_option("--pcap", f.pcap, "write a capture of the connections (needs --keylog)");
  cmd.add_option("--keylog", f.keylog, "write the NSS key log of the connections");
}

void check_outputs(const OutputFlags& f) {
  if (f.pcap.empty() != f.keylog.empty()) {
    throw UsageError{
        "--pcap and --keylog go together: the capture is encrypted, the key log "
        "lets tshark decrypt it"};
  }
}

sim::Scenario make_scenario(const CommonFlags& f, sim::Pacing pacing) {
  sim::Scenario s;
  s.workload.pacing = pacing;
  if (!f.scenario_file.empty()) s = read_scenario_file(f.scenario_file, s);
  apply_workload(f, s);
  apply_link(f, s);
  if (std::string why = sim::validate(s); !why.empty()) throw UsageError{why};
  return s;
}

}  // namespace emitlab::cli
