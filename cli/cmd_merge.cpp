// emitlab merge FILES...: a sharded campaign's result lines merged into one (rules and exit
// statuses in cli/merge.h). Reading a shard that cannot be read is bad input (exit 2); a merged
// result that cannot be written is a lost output (exit 1).
#include <fstream>
#include <iostream>
#include <iterator>
#include <variant>

#include "cli/commands.h"
#include "cli/merge.h"
#include "cli/options.h"
#include "cli/outputs.h"
#include "core/echo.h"

namespace emitlab::cli {
namespace {

int merge(const Command&, const Args& args) {
  std::vector<ShardFile> files;
  for (const auto& path : args.values("FILES")) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError{"bad shard file " + echo(path) + ": cannot be read"};
    files.push_back({path, std::string((std::istreambuf_iterator<char>(in)),
                                       std::istreambuf_iterator<char>())});
    if (in.bad()) throw UsageError{"bad shard file " + echo(path) + ": read error"};
  }
  auto merged = merge_shards(files);
  if (const auto* error = std::get_if<std::string>(&merged)) throw UsageError{*error};
  const auto& m = std::get<Merged>(merged);
  if (args.has("--json")) {
    std::cout << m.result.dump() << '\n';
  } else {
    print_merged(std::cout, m);
  }
  flush_stdout();
  return m.exit_code;
}

}  // namespace

Command merge_command() {
  Command c;
  c.name = "merge";
  c.summary = "merge a sharded campaign's result lines (explore or props) into one result";
  c.example = "merge shard-*.jsonl --json";
  Flag files =
      text_flag("FILES", "FILES", "one result file (JSON lines) per shard, every shard once",
                "the shards' result files");
  files.required = true;
  files.many = true;
  c.flags = {files, switch_flag("--json", "print the merged result as one JSON line")};
  c.run = merge;
  return c;
}

}  // namespace emitlab::cli
