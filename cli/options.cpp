#include "cli/options.h"

#include <algorithm>

#include "core/echo.h"
#include "sim/json_reader.h"

namespace emitlab::cli {
namespace {

constexpr const char* kStreamsFlag = "--streams";
constexpr std::uint32_t kStreamsConcurrency = 100;  // --streams N opens min(N, 100) at once

// The flags that write each scenario field (--streams writes three).
std::vector<std::string> fields_written(const Flag& f) {
  if (f.name == kStreamsFlag) {
    return {"workload.requests", "workload.connections", "workload.concurrency"};
  }
  return f.field.empty() ? std::vector<std::string>{} : std::vector<std::string>{f.field};
}

sim::Scenario read_scenario_file(const std::string& path, const sim::Scenario& base) {
  const sim::FileRead file = sim::read_text_file(path, sim::kMaxScenarioBytes);
  if (!file.text) throw UsageError{"bad --scenario " + echo(path) + ": " + file.error};
  const auto parsed = sim::parse_scenario(*file.text, base);
  if (!parsed.scenario) throw UsageError{"bad --scenario " + echo(path) + ": " + parsed.error};
  return *parsed.scenario;
}

}  // namespace

Flag field_flag(std::string name, std::string metavar, std::string field, std::string help) {
  Flag f;
  f.name = std::move(name);
  f.metavar = std::move(metavar);
  f.field = std::move(field);
  f.help = std::move(help);
  return f;
}

Flag text_flag(std::string name, std::string metavar, std::string allowed, std::string help) {
  Flag f;
  f.name = std::move(name);
  f.metavar = std::move(metavar);
  f.allowed = std::move(allowed);
  f.help = std::move(help);
  return f;
}

Flag switch_flag(std::string name, std::string help) {
  Flag f;
  f.name = std::move(name);
  f.help = std::move(help);
  return f;
}

Flag number_flag(std::string name, std::string metavar, Flag::Kind kind, std::uint64_t min,
                 std::uint64_t max, std::string default_text, std::string help) {
  Flag f;
  f.name = std::move(name);
  f.metavar = std::move(metavar);
  f.kind = kind;
  f.min = min;
  f.max = max;
  f.default_text = std::move(default_text);
  f.help = std::move(help);
  return f;
}

Flag strategy_flag() {
  return field_flag("--strategy", "S", "strategy",
                    "strategy spec (emitlab strategies lists the parts)");
}

std::vector<Flag> scenario_flags() {
  Flag streams = field_flag(kStreamsFlag, "N", "workload.requests",
                            "shorthand for --connections 1 --concurrency min(N,100) --requests N");
  streams.default_text = "none";
  streams.write = [](sim::Scenario& s, std::string_view value, const Args& args) {
    for (const char* other : {"--connections", "--concurrency", "--requests"}) {
      if (args.has(other)) {
        return std::string(
            "--streams N is shorthand for --connections 1 --concurrency N "
            "--requests N: give one or the other");
      }
    }
    if (std::string why = sim::set_field(s, "workload.requests", value); !why.empty()) return why;
    s.workload.connections = 1;
    s.workload.concurrency = std::min(s.workload.requests, kStreamsConcurrency);
    return std::string{};
  };
  return {
      streams,
      field_flag("--connections", "C", "workload.connections",
                 "connections, each with its own TLS pair and peer"),
      field_flag("--open-connections", "K", "workload.open_connections",
                 "connections open at once; the next opens when one ends (0: all at once)"),
      field_flag("--concurrency", "M", "workload.concurrency",
                 "streams open at once per connection (h2load -m)"),
      field_flag("--requests", "N", "workload.requests",
                 "requests in total over all connections (h2load -n), at least C"),
      field_flag("--body", "SIZE", "workload.body",
                 "body of every response; at most 1 GiB of bodies per connection"),
      field_flag("--seed", "S", "seed", "seed of the world (choices, TLS randomness, body bytes)"),
      field_flag("--pacing", "P", "workload.pacing",
                 "lockstep: batches, server output independent of timing; closed-loop: h2load's"),
      field_flag("--cipher-ring", "K", "rings.cipher_out_records",
                 "cipher-out ring of K x 17408 bytes (0: 64 KiB)"),
      field_flag("--plaintext-ring", "SIZE", "rings.plaintext", "plaintext ring size"),
      field_flag("--completions", "MODE", "link.completions",
                 "sync: inside the submit; async: after a delay plus size over bandwidth; mixed"),
      field_flag("--read-chunk", "SIZE", "link.read_chunk",
                 "bytes the peer reads at once (a range: each read draws from it)"),
      field_flag("--mutant", "NAME", "mutant",
                 "arm one fault point of the bug zoo on every connection (README: Mutants)"),
      text_flag("--scenario", "FILE",
                "a JSON file of at most " + std::to_string(sim::kMaxScenarioBytes >> 20) + " MiB",
                "scenario file; the flags given override it"),
      switch_flag("--print-scenario", "print the canonical scenario of the run and exit"),
      quiet_flag(),
  };
}

Flag quiet_flag() {
  return switch_flag("--quiet", "no progress line on stderr (work over 2 s prints one a second)");
}

std::vector<Flag> output_flags() {
  return {
      switch_flag("--json", "print JSON instead of text"),
      text_flag("--trace", "FILE", "a file path",
                "write JSON lines of passes, writes, reads, frames"),
      text_flag("--pcap", "FILE", "a file path, with --keylog",
                "write a capture of the connections (needs --keylog)"),
      text_flag("--keylog", "FILE", "a file path, with --pcap",
                "write the NSS key log of the connections"),
  };
}

sim::Scenario make_scenario(const Command& c, const Args& args) {
  sim::Scenario s = c.defaults;
  if (args.has("--scenario")) s = read_scenario_file(args.value("--scenario"), s);
  for (const auto& given : args.given) {
    const Flag* f = c.flag(given.flag);
    if (f == nullptr || (f->field.empty() && !f->write)) continue;
    const std::string why =
        f->write ? f->write(s, given.value, args) : sim::set_field(s, f->field, given.value);
    if (!why.empty()) throw UsageError{"bad " + f->name + " " + echo(given.value) + ": " + why};
  }
  const auto conflict = sim::conflict(s);
  if (!conflict) return s;
  // Name the flag the user typed for the first field of the rule that a flag wrote.
  for (const auto& field : conflict->fields) {
    for (auto it = args.given.rbegin(); it != args.given.rend(); ++it) {
      const Flag* f = c.flag(it->flag);
      if (f == nullptr) continue;
      const auto written = fields_written(*f);
      if (std::find(written.begin(), written.end(), field.path) == written.end()) continue;
      const std::string allowed = field.path == f->field && !field.allowed.empty()
                                      ? "expected " + field.allowed + " here ("
                                      : "(";
      throw UsageError{"bad " + f->name + " " + echo(it->value) + ": " + allowed + conflict->rule +
                       ")"};
    }
  }
  throw UsageError{conflict->message};
}

}  // namespace emitlab::cli
