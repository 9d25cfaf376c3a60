#include "cli/command.h"

#include <CLI/CLI.hpp>

#include <map>
#include <optional>
#include <stdexcept>

#include "core/byte_size.h"
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

std::vector<std::string> Args::values(std::string_view flag) const {
  std::vector<std::string> out;
  for (const auto& g : given) {
    if (g.flag == flag) out.push_back(g.value);
  }
  return out;
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

constexpr std::uint64_t kMillisPerSecond = 1000;

std::string millis_text(std::uint64_t ms) {
  std::string text = std::to_string(ms / kMillisPerSecond);
  if (ms % kMillisPerSecond != 0) {
    std::string frac = std::to_string(kMillisPerSecond + ms % kMillisPerSecond).substr(1);
    while (frac.back() == '0') frac.pop_back();
    text += "." + frac;
  }
  return text;
}

// Seconds as a user types them: a whole decimal number with at most three decimals ("0.5",
// "10"), in milliseconds.
std::optional<std::uint64_t> parse_millis(std::string_view text) {
  const auto dot = text.find('.');
  const auto whole = parse_decimal(text.substr(0, dot));
  if (!whole || *whole > UINT64_MAX / kMillisPerSecond - kMillisPerSecond) return std::nullopt;
  std::uint64_t ms = *whole * kMillisPerSecond;
  if (dot == std::string_view::npos) return ms;
  const std::string_view frac = text.substr(dot + 1);
  if (frac.empty() || frac.size() > 3 || frac.find_first_not_of("0123456789") != frac.npos) {
    return std::nullopt;
  }
  std::uint64_t scale = kMillisPerSecond;
  for (char ch : frac) {
    scale /= 10;
    ms += static_cast<std::uint64_t>(ch - '0') * scale;
  }
  return ms;
}

std::optional<std::uint64_t> parse_kind(Flag::Kind kind, std::string_view text) {
  switch (kind) {
    case Flag::Kind::Number:
      return parse_decimal(text);
    case Flag::Kind::Size:
      return parse_byte_size(text);
    case Flag::Kind::Seconds:
      return parse_millis(text);
    case Flag::Kind::Text:
      break;
  }
  return std::nullopt;
}

std::string bounds_text(const Flag& f) {
  switch (f.kind) {
    case Flag::Kind::Number:
      return std::to_string(f.min) + ".." + std::to_string(f.max);
    case Flag::Kind::Size:
      return byte_size_text(f.min) + ".." + byte_size_text(f.max) + " bytes";
    case Flag::Kind::Seconds:
      return millis_text(f.min) + ".." + millis_text(f.max) + " seconds";
    case Flag::Kind::Text:
      break;
  }
  return {};
}

}  // namespace

std::uint64_t number_value(const Args& args, std::string_view flag, std::uint64_t fallback) {
  if (!args.has(flag)) return fallback;
  const std::string text = args.value(flag);
  if (auto v = parse_decimal(text)) return *v;
  if (auto v = parse_byte_size(text)) return *v;
  throw std::logic_error("number_value: " + std::string(flag) + " was not checked as a number");
}

double seconds_value(const Args& args, std::string_view flag, double fallback) {
  if (!args.has(flag)) return fallback;
  const auto ms = parse_millis(args.value(flag));
  if (!ms) throw std::logic_error("seconds_value: " + std::string(flag) + " was not checked");
  return static_cast<double>(*ms) / kMillisPerSecond;
}

std::string allowed_text(const Command& c, const Flag& f) {
  if (f.kind != Flag::Kind::Text) {
    return f.allowed.empty() ? bounds_text(f) : bounds_text(f) + ", " + f.allowed;
  }
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
  std::map<std::string, std::vector<std::string>> many;
  std::map<std::string, CLI::Option*> options;
  for (const auto& f : c.flags) {
    CLI::Option* o = nullptr;
    if (f.metavar.empty()) {
      o = app.add_flag(f.name, f.help);
    } else if (f.many) {
      o = app.add_option(f.name, many[f.name], f.help);
      if (f.required) o->required();
    } else if (f.positional()) {
      o = app.add_option(f.name, values[f.name], f.help);
      if (f.required) o->required();
    } else {
      o = app.add_option(f.name, values[f.name], f.help);
    }
    if (!f.many) o->multi_option_policy(CLI::MultiOptionPolicy::Throw);
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
      if (f.many) {
        if (args.has(f.name)) continue;
        for (const auto& v : many[f.name]) {
          if (v.empty()) throw UsageError{"bad " + f.name + " '': expected " + allowed_text(c, f)};
          args.given.push_back({f.name, v});
        }
        continue;
      }
      const std::string& v = values[f.name];
      if (!f.metavar.empty() && v.empty()) {
        throw UsageError{"bad " + f.name + " '': expected " + allowed_text(c, f)};
      }
      if (f.kind != Flag::Kind::Text) {
        const auto n = parse_kind(f.kind, v);
        if (!n || *n < f.min || *n > f.max) {
          throw UsageError{"bad " + f.name + " " + echo(v) + ": expected " + allowed_text(c, f)};
        }
      }
      if (!args.has(f.name)) args.given.push_back({f.name, v});
    }
  }
  return args;
}

}  // namespace emitlab::cli
