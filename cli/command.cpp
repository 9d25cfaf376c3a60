#include "cli/command.h"

#include <CLI/CLI.hpp>

#include <map>

#include "core/echo.h"

namespace emitlab::cli {

bool Args::has(std::string_view flag) const {
  for (const auto& g : given) {
    if (g.flag == flag) return true;
  }
  return false;
}

std::string Args::value(std::string_view flag, std::string fallback) const {
  for (auto it = given.rbegin(); it != given.rend(); ++it) {
    if (it->flag == flag) return it->value;
  }
  return fallback;
}

const Flag* Command::flag(std::string_view name) const {
  for (const auto& f : flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

namespace {

const sim::ScenarioField* field_of(const std::vector<sim::ScenarioField>& fields,
                                   const std::string& path) {
  for (const auto& f : fields) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

}  // namespace

std::string allowed_text(const Command& c, const Flag& f) {
  if (f.field.empty()) return f.allowed;
  const auto fields = sim::scenario_fields(c.defaults);
  const auto* field = field_of(fields, f.field);
  return field != nullptr ? field->allowed : "?";
}

std::string default_text(const Command& c, const Flag& f) {
  if (!f.default_text.empty() || f.field.empty()) return f.default_text;
  const auto fields = sim::scenario_fields(c.defaults);
  const auto* field = field_of(fields, f.field);
  return field != nullptr ? field->value : "?";
}

Args parse_args(const Command& c, int argc, const char* const* argv, int first) {
  // CLI11 does the tokenizing (--flag value, --flag=value, unknown flags); every value is taken
  // as text and read by the scenario's table or the command, never by CLI11's own conversions
  // (which read 010 as octal and clamp out-of-range numbers).
  CLI::App app{c.summary, "emitlab " + c.name};
  app.set_help_flag();
  app.allow_windows_style_options(false);
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> options;
  for (const auto& f : c.flags) {
    CLI::Option* o = nullptr;
    if (f.metavar.empty()) {
      o = app.add_flag(f.name, f.help);
    } else if (f.positional()) {
      o = app.add_option(f.name, values[f.name], f.help);
      if (f.required) o->required();
    } else {
      o = app.add_option(f.name, values[f.name], f.help);
    }
    o->multi_option_policy(CLI::MultiOptionPolicy::Throw);
    options[f.name] = o;
  }
  std::vector<std::string> words;
  for (int i = argc - 1; i >= first; --i) words.emplace_back(argv[i]);
  try {
    app.parse(words);
  } catch (const CLI::ParseError& e) {
    throw UsageError{"emitlab " + c.name + ": " + printable(e.what(), 200) + "; see emitlab help " +
                     c.name};
  }
  Args args;
  for (const CLI::Option* o : app.parse_order()) {
    for (const auto& f : c.flags) {
      if (options[f.name] != o) continue;
      if (!f.metavar.empty() && values[f.name].empty()) {
        throw UsageError{"bad " + f.name + " '': expected " + allowed_text(c, f)};
      }
      if (!args.has(f.name)) args.given.push_back({f.name, values[f.name]});
    }
  }
  return args;
}

}  // namespace emitlab::cli
