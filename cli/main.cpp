// emitlab: run emit strategies in the deterministic world, compare what they deliver, and
// replay a run from its token. Every command is declared in the table of cli/commands.h.
//
// Exit statuses: 0 success; 1 a run failed, a promise broke or an output could not be written;
// 2 bad input (one line on stderr); 130/143 stopped by SIGINT/SIGTERM (outputs closed, the
// summary of what ran printed and marked interrupted).
#include <iostream>
#include <string_view>

#include "cli/commands.h"
#include "cli/help.h"
#include "cli/interrupt.h"
#include "cli/outputs.h"
#include "core/echo.h"
#include "sim/openssl_mem.h"

namespace {

namespace cli = emitlab::cli;

// A message as one line on stderr: values in it were already quoted by echo() (core/echo.h), so
// only what is left of control characters is escaped here (never a backslash twice), and a
// runaway message is cut.
std::string one_line(const std::string& message) {
  constexpr std::size_t kMaxMessage = 1000;
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : message.substr(0, kMaxMessage)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  if (message.size() > kMaxMessage) out += "...";
  return out;
}

bool asks_help(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") return false;
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

int dispatch(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    cli::print_overview(std::cout);
    cli::flush_stdout();
    return 0;
  }
  const cli::Command* command = cli::find_command(argv[1]);
  if (command == nullptr) {
    std::string names;
    for (const auto& c : cli::all_commands()) names += (names.empty() ? "" : ", ") + c.name;
    throw cli::UsageError{"emitlab: unknown command " + emitlab::echo(argv[1]) +
                          "; expected one of " + names + " (emitlab --help)"};
  }
  if (asks_help(argc, argv, 2)) {
    cli::print_command_help(std::cout, *command);
    cli::flush_stdout();
    return 0;
  }
  const cli::Args args = cli::parse_args(*command, argc, argv, 2);
  return command->run(*command, args);
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything else touches OpenSSL: its allocations can only be counted from the start.
  // `serve` counts nothing inside OpenSSL and runs without the hooks, like the servers it is
  // measured against; its libuv loop handles SIGINT and SIGTERM itself.
  const bool serve = argc >= 2 && std::string_view(argv[1]) == "serve";
  if (!serve) {
    emitlab::sim::install_openssl_mem_hooks();
    cli::stop_on_signals();
  }
  try {
    return dispatch(argc, argv);
  } catch (const cli::UsageError& e) {
    std::cerr << (e.message.rfind("emitlab", 0) == 0 ? "" : "emitlab: ") << one_line(e.message)
              << '\n';
    return cli::kExitUsage;
  } catch (const cli::OutputError& e) {
    std::cerr << "emitlab: " << one_line(e.message) << '\n';
    return cli::kExitFailed;
  }
}
