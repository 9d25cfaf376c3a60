// The files a run writes besides its summary (--trace, --pcap, --keylog) and standard output.
// Nothing written is lost silently: close() flushes and closes each file and throws OutputError
// naming the first that could not be written completely (a full disk, /dev/full, a closed pipe).
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include "cli/command.h"
#include "sim/pcap_writer.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace emitlab::cli {

class Outputs {
 public:
  // Opens every output the arguments name. Throws UsageError when one cannot be opened or
  // --pcap comes without --keylog (or the other way round).
  explicit Outputs(const Args& args);
  ~Outputs();  // closes whatever close() did not (errors then go unreported: call close())
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;

  void attach(sim::RunOptions& o);
  // Throws OutputError.
  void close();

 private:
  struct File {
    std::string flag;
    std::string path;
    std::ofstream out;
  };
  static std::unique_ptr<File> open(const std::string& flag, const std::string& path);
  static void close(File& f);

  std::unique_ptr<File> trace_file_;
  std::unique_ptr<sim::TraceWriter> trace_;
  std::unique_ptr<File> keylog_file_;
  std::string pcap_path_;
  std::unique_ptr<sim::PcapWriter> pcap_;
};

// Flushes standard output; throws OutputError when what was printed could not be written.
void flush_stdout();

}  // namespace emitlab::cli
