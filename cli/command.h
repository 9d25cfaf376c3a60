// The table every command of `emitlab` declares itself in: its name, one line of summary, an
// example, and each flag once (name, value, meaning, and either the scenario field it writes or
// what it allows). Parsing, `--help`, `emitlab help COMMAND` and the README's flag tables are all
// generated from it, and a flag that writes a scenario field takes its bounds and default from
// the scenario's own table (sim/scenario.h), so help, README and validator cannot disagree.
//
// A new command: write `Command my_command()` in its own cli/cmd_NAME.cpp (flags, handler),
// declare it in cli/commands.h and add it to all_commands() in cli/commands.cpp; that is all.
// Shared flag groups (workload and link flags, outputs) come from cli/options.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.h"

namespace emitlab::cli {

// Bad input: one line, exit 2.
struct UsageError {
  std::string message;
};
// An output that could not be written: one line naming the file, exit 1.
struct OutputError {
  std::string message;
};

inline constexpr int kExitFailed = 1;  // a run failed, a promise broke, an output was lost
inline constexpr int kExitUsage = 2;

// What the user typed for one command, in command-line order.
class Args {
 public:
  struct Given {
    std::string flag;   // as declared ("--seed"), or a positional's name ("TOKEN")
    std::string value;  // empty for a switch
  };
  std::vector<Given> given;

  bool has(std::string_view flag) const;
  // The last value given, or `fallback` when the flag was not given.
  std::string value(std::string_view flag, std::string fallback = {}) const;
  // Every value given for the flag, in order (a `many` positional).
  std::vector<std::string> values(std::string_view flag) const;
};

struct Flag {
  std::string name;     // "--requests"; a positional is named in capitals ("TOKEN")
  std::string metavar;  // "N", "SIZE", "FILE"; empty for a switch
  std::string help;     // one line: what it means
  // The scenario field the flag writes; its allowed values and default come from the scenario.
  std::string field;
  // For a flag that writes no field: what it allows and its default ("" for none).
  std::string allowed;
  std::string default_text;
  // Writes the flag's value into the scenario; unset: sim::set_field(s, field, value). Returns
  // empty or what is allowed (the caller names the flag and the value).
  std::function<std::string(sim::Scenario&, std::string_view value, const Args&)> write;
  bool required = false;  // positionals only
  // A positional that takes every remaining word (merge's FILES); Args holds one entry per word.
  bool many = false;
  // For a flag that writes no field but takes a number: what kind and its bounds. parse_args
  // refuses a value outside them and allowed_text() spells them, so help and check agree.
  enum class Kind { Text, Number, Size, Seconds };
  Kind kind = Kind::Text;
  std::uint64_t min = 0;  // Seconds: in milliseconds
  std::uint64_t max = 0;
  bool positional() const { return name.empty() || name[0] != '-'; }
};

// A number flag's value, already checked by parse_args (Number and Size: the value; Seconds:
// seconds), or `fallback` when it was not given.
std::uint64_t number_value(const Args& args, std::string_view flag, std::uint64_t fallback);
double seconds_value(const Args& args, std::string_view flag, double fallback);

struct Command {
  std::string name;
  std::string summary;     // one line
  std::string example;     // one command line, without "emitlab "
  sim::Scenario defaults;  // the base scenario its field flags write into
  std::vector<Flag> flags;
  // Throws UsageError or OutputError; returns the exit status.
  std::function<int(const Command&, const Args&)> run;

  const Flag* flag(std::string_view name) const;
};

// What a flag allows and its default, as help and the README show them.
std::string allowed_text(const Command& c, const Flag& f);
std::string default_text(const Command& c, const Flag& f);

// Parses argv[first..argc) for `c`. Throws UsageError for an unknown flag, a missing or repeated
// value, an empty value (no flag of emitlab means anything by ""), or a missing positional.
Args parse_args(const Command& c, int argc, const char* const* argv, int first);

}  // namespace emitlab::cli
