#include "cli/help.h"

#include <algorithm>
#include <sstream>

#include "cli/commands.h"
#include "sim/json_reader.h"
#include "sim/replay.h"

namespace emitlab::cli {
namespace {

constexpr std::size_t kWidth = 80;
constexpr std::size_t kFlagColumn = 24;

std::string usage_of(const Flag& f) {
  if (f.positional()) return f.metavar;
  return f.metavar.empty() ? f.name : f.name + " " + f.metavar;
}

// Words of `text` wrapped at kWidth, every line after the first indented by `indent`.
std::string wrap(const std::string& text, std::size_t indent, std::size_t first_column) {
  std::istringstream words(text);
  std::string out;
  std::size_t column = first_column;
  for (std::string w; words >> w;) {
    if (column > indent && column + 1 + w.size() > kWidth) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    out += w;
    column += w.size();
  }
  return out;
}

std::string with_default(const Command& c, const Flag& f) {
  std::string text = allowed_text(c, f);
  const std::string d = default_text(c, f);
  if (!d.empty()) text += (text.empty() ? "default " : "; default ") + d;
  return text;
}

}  // namespace

void print_overview(std::ostream& out) {
  out << "emitlab: HTTP/2-over-TLS emit strategies in a deterministic world\n\n"
         "usage: emitlab COMMAND [FLAGS]\n\ncommands:\n";
  std::size_t width = 0;
  for (const auto& c : all_commands()) width = std::max(width, c.name.size());
  for (const auto& c : all_commands()) {
    out << "  " << c.name << std::string(width + 2 - c.name.size(), ' ')
        << wrap(c.summary, width + 4, width + 4) << '\n';
  }
  out << "\nexamples:\n";
  for (const auto& c : all_commands()) {
    if (c.name != "help") out << "  emitlab " << c.example << '\n';
  }
  out << "\n`emitlab help COMMAND` or `emitlab COMMAND --help` lists every flag of a command\n"
         "with what it allows and its default.\n";
}

void print_command_help(std::ostream& out, const Command& c) {
  out << "usage: emitlab " << c.name;
  for (const auto& f : c.flags) {
    if (f.positional()) out << ' ' << f.metavar;
  }
  if (std::any_of(c.flags.begin(), c.flags.end(), [](const Flag& f) { return !f.positional(); })) {
    out << " [FLAGS]";
  }
  out << "\n" << wrap(c.summary, 0, 0) << "\n\nexample: emitlab " << c.example << "\n";
  if (!c.flags.empty()) out << "\nflags:\n";
  for (const auto& f : c.flags) {
    std::string head = "  " + usage_of(f);
    if (head.size() + 2 > kFlagColumn) {
      out << head << '\n';
      head.clear();
    }
    out << head << std::string(kFlagColumn - head.size(), ' ')
        << wrap(f.help, kFlagColumn, kFlagColumn) << '\n';
    const std::string allowed = with_default(c, f);
    if (!allowed.empty()) {
      out << std::string(kFlagColumn, ' ') << wrap(allowed, kFlagColumn, kFlagColumn) << '\n';
    }
  }
  out << "\n--help prints this.\n";
}

void print_markdown(std::ostream& out) {
  for (const auto& c : all_commands()) {
    if (c.flags.empty()) continue;
    out << "\n`emitlab " << c.name << "`: " << c.summary << "\n\n"
        << "| flag | allowed | default | meaning |\n|---|---|---|---|\n";
    for (const auto& f : c.flags) {
      auto cell = [](std::string s) {
        std::string o;
        for (char ch : s) o += ch == '|' ? std::string("\\|") : std::string(1, ch);
        return o;
      };
      out << "| `" << usage_of(f) << "` | " << cell(allowed_text(c, f)) << " | "
          << cell(default_text(c, f)) << " | " << cell(f.help) << " |\n";
    }
  }
}

}  // namespace emitlab::cli
