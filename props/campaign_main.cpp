// props_campaign: one shard of a property campaign (props/campaign.h), or `replay TOKEN` /
// `check PROPERTY FILE` to rerun a case its line reports.
#include <string_view>

#include "props/campaign.h"
#include "props/runner.h"

int main(int argc, char** argv) {
  if (argc >= 2 &&
      (std::string_view(argv[1]) == "replay" || std::string_view(argv[1]) == "check")) {
    return emitlab::props::props_main(argc, argv);
  }
  return emitlab::props::campaign_main(argc, argv);
}
