// emitlab demo: the first screen for a newcomer (cli/demo.h lays it out): ten strategies on two
// workloads where they differ, a verdict, where they differ most, and what to try next.
#include <iostream>

#include "cli/commands.h"
#include "cli/demo.h"
#include "cli/execute.h"
#include "cli/options.h"

namespace emitlab::cli {

Command demo_command() {
  Command c;
  c.name = "demo";
  c.summary = "ten strategies on 3-byte and 64 KiB bodies: what they change, on one screen";
  c.example = "demo";
  c.flags = {quiet_flag()};
  c.run = [](const Command&, const Args& args) {
    CommandProgress progress(demo_requests(), "demo", progress_wanted(args));
    const int status = cmd_demo(std::cout, [&progress](const sim::Scenario& sc) {
      return run_and_summarize(sc, {}, progress);
    });
    return finish_status(status == 0);
  };
  return c;
}

}  // namespace emitlab::cli
