#include "cli/outputs.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "core/echo.h"

namespace emitlab::cli {
namespace {

std::string reason() {
  return errno != 0 ? std::strerror(errno) : "write failed";
}

}  // namespace

Outputs::Outputs(const Args& args) {
  if (args.has("--pcap") != args.has("--keylog")) {
    throw UsageError{
        "--pcap and --keylog go together: the capture is encrypted, the key log "
        "lets tshark decrypt it"};
  }
  if (args.has("--trace")) {
    trace_file_ = open("--trace", args.value("--trace"));
    trace_ = std::make_unique<sim::TraceWriter>(trace_file_->out);
  }
  if (args.has("--pcap")) {
    keylog_file_ = open("--keylog", args.value("--keylog"));
    pcap_path_ = args.value("--pcap");
    try {
      pcap_ = std::make_unique<sim::PcapWriter>(pcap_path_);
    } catch (const std::exception& e) {
      throw UsageError{"bad --pcap " + echo(pcap_path_) + ": " + e.what()};
    }
  }
}

Outputs::~Outputs() = default;

void Outputs::attach(sim::RunOptions& o) {
  if (trace_) o.observers.push_back(trace_.get());
  if (pcap_) o.observers.push_back(pcap_.get());
  if (keylog_file_) {
    std::ofstream* out = &keylog_file_->out;
    o.keylog = [out](std::string_view line) { *out << line << '\n'; };
  }
}

std::unique_ptr<Outputs::File> Outputs::open(const std::string& flag, const std::string& path) {
  auto f = std::make_unique<File>();
  f->flag = flag;
  f->path = path;
  errno = 0;
  f->out.open(path, std::ios::binary | std::ios::trunc);
  if (!f->out)
    throw UsageError{"bad " + flag + " " + echo(path) + ": cannot be written: " + reason()};
  return f;
}

void Outputs::close(File& f) {
  errno = 0;
  f.out.flush();
  const bool written = f.out.good();
  const std::string why = reason();
  f.out.close();
  if (!written || f.out.fail()) {
    throw OutputError{"could not write " + f.flag + " " + echo(f.path) + ": " +
                      (written ? reason() : why) + " (the file is incomplete)"};
  }
}

void Outputs::close() {
  // Close all, then report the first failure: one lost output must not cost the others.
  std::string first;
  if (trace_file_) {
    try {
      close(*trace_file_);
    } catch (const OutputError& e) {
      first = e.message;
    }
  }
  if (keylog_file_) {
    try {
      close(*keylog_file_);
    } catch (const OutputError& e) {
      if (first.empty()) first = e.message;
    }
  }
  if (pcap_) {
    const std::string why = pcap_->close();
    if (!why.empty() && first.empty()) {
      first =
          "could not write --pcap " + echo(pcap_path_) + ": " + why + " (the file is incomplete)";
    }
  }
  trace_file_.reset();
  keylog_file_.reset();
  if (!first.empty()) throw OutputError{first};
}

void flush_stdout() {
  errno = 0;
  std::cout.flush();
  if (!std::cout) throw OutputError{"could not write standard output: " + reason()};
}

}  // namespace emitlab::cli
