// --trace FILE: one JSON object per line for everything the world shows (sim/observer.h):
//   {"t":ns,"c":connection,"ev":"pass_begin","pass":n}
//   {"t","c","ev":"pass_end","pass":n,"record":{every PassRecord field}}
//   {"t","c","ev":"write_submit","bytes":n,"sync":bool}
//   {"t","c","ev":"write_complete","bytes":n}
//   {"t","c","ev":"peer_read","bytes":n,"left":bytes still in the link}
//   {"t","c","ev":"client_flush","bytes":n}   {"t","c","ev":"deliver","bytes":n,"after_pass":bool}
//   {"t","c","ev":"frame","dir":"recv"|"send","type":"DATA",...,"flags":n,"stream":id,"length":n}
//     (as the peer sees it: "recv" frames are the server's, "send" frames the peer's own)
//   {"t","c","ev":"connection_start"}   {"t","c","ev":"connection_end","aborted":bool}
#pragma once

#include <ostream>

#include "sim/observer.h"

namespace emitlab::sim {

class TraceWriter final : public WorldObserver {
 public:
  explicit TraceWriter(std::ostream& out) : out_(&out) {}
  void on_connection_start(std::uint64_t t, std::uint32_t c) override;
  void on_pass_begin(std::uint64_t t, std::uint32_t c, std::uint64_t pass) override;
  void on_pass_end(std::uint64_t t, std::uint32_t c, const PassRecord& r) override;
  void on_write_submit(std::uint64_t t, std::uint32_t c, std::size_t bytes, bool sync) override;
  void on_write_complete(std::uint64_t t, std::uint32_t c,
                         std::span<const std::uint8_t> bytes) override;
  void on_peer_read(std::uint64_t t, std::uint32_t c, std::size_t bytes,
                    std::uint64_t left) override;
  void on_client_flush(std::uint64_t t, std::uint32_t c,
                       std::span<const std::uint8_t> bytes) override;
  void on_deliver(std::uint64_t t, std::uint32_t c, std::size_t bytes, bool after_pass) override;
  void on_frame(std::uint64_t t, std::uint32_t c, const FrameInfo& f, bool outbound) override;
  void on_connection_end(std::uint64_t t, std::uint32_t c, bool aborted) override;

 private:
  std::ostream& line(std::uint64_t t, std::uint32_t c, const char* ev);
  std::ostream* out_;
};

const char* frame_type_name(std::uint8_t type);

}  // namespace emitlab::sim
