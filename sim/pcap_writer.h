// --pcap FILE: the connections' bytes as a libpcap capture of IPv4/TCP packets (raw IP link
// type, nanosecond virtual timestamps). Connection c runs between 10.1.(c>>8).(c&255):(10000+c)
// and 10.0.0.1:443, opens with a TCP handshake, and carries each client flush and each
// completed server write as segments of at most 16384 bytes. With the NSS key log (--keylog),
// `tshark -r FILE -o tls.keylog_file:KEYS -Y http2` decodes every HTTP/2 frame.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "sim/observer.h"

struct pcap;
struct pcap_dumper;

namespace emitlab::sim {

class PcapWriter final : public WorldObserver {
 public:
  // Throws std::runtime_error when the file cannot be written.
  explicit PcapWriter(const std::string& path);
  ~PcapWriter() override;
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  void on_connection_start(std::uint64_t t, std::uint32_t c) override;
  void on_write_complete(std::uint64_t t, std::uint32_t c,
                         std::span<const std::uint8_t> bytes) override;
  void on_client_flush(std::uint64_t t, std::uint32_t c,
                       std::span<const std::uint8_t> bytes) override;
  std::uint64_t packets() const { return packets_; }
  // Flushes and closes the file; empty when every packet reached it, else why not (a full
  // disk). libpcap's pcap_dump reports nothing, so this is where a lost packet is seen. Packets
  // after close() are dropped.
  std::string close();

 private:
  struct Flow {
    std::uint32_t client_seq = 1000;  // next sequence number, each side
    std::uint32_t server_seq = 5000;
  };
  void segment(std::uint64_t t, std::uint32_t c, bool from_client, std::uint8_t flags,
               std::span<const std::uint8_t> payload);
  void send(std::uint64_t t, std::uint32_t c, bool from_client,
            std::span<const std::uint8_t> bytes);

  struct PcapClose {
    void operator()(pcap* p) const;
  };
  struct DumperClose {
    void operator()(pcap_dumper* d) const;
  };
  std::unique_ptr<pcap, PcapClose> pcap_;
  std::unique_ptr<pcap_dumper, DumperClose> dumper_;
  std::map<std::uint32_t, Flow> flows_;
  std::uint64_t packets_ = 0;
};

}  // namespace emitlab::sim
