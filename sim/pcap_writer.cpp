#include "sim/pcap_writer.h"

#include <pcap/pcap.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace emitlab::sim {
namespace {

constexpr std::size_t kIpHeader = 20;
constexpr std::size_t kTcpHeader = 20;
constexpr std::size_t kMaxSegment = 16384;
constexpr std::uint8_t kSyn = 0x02, kPsh = 0x08, kAck = 0x10;
constexpr std::uint16_t kServerPort = 443;

std::array<std::uint8_t, 4> client_ip(std::uint32_t c) {
  return {10, 1, static_cast<std::uint8_t>(c >> 8), static_cast<std::uint8_t>(c)};
}
constexpr std::array<std::uint8_t, 4> kServerIp = {10, 0, 0, 1};
std::uint16_t client_port(std::uint32_t c) {
  return static_cast<std::uint16_t>(10000 + c % 50000);
}

void put16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}

std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t acc = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) acc += (p[i] << 8) | p[i + 1];
  if (n % 2 != 0) acc += p[n - 1] << 8;
  return acc;
}
std::uint16_t fold(std::uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint16_t>(~acc);
}

}  // namespace

void PcapWriter::PcapClose::operator()(pcap* p) const {
  pcap_close(p);
}
void PcapWriter::DumperClose::operator()(pcap_dumper* d) const {
  pcap_dump_close(d);
}

PcapWriter::PcapWriter(const std::string& path)
    : pcap_(pcap_open_dead_with_tstamp_precision(DLT_RAW, 65535, PCAP_TSTAMP_PRECISION_NANO)) {
  if (!pcap_) throw std::runtime_error("libpcap: pcap_open_dead failed");
  dumper_.reset(pcap_dump_open(pcap_.get(), path.c_str()));
  if (!dumper_)
    throw std::runtime_error("cannot write '" + path + "': " + pcap_geterr(pcap_.get()));
}

PcapWriter::~PcapWriter() = default;

std::string PcapWriter::close() {
  if (!dumper_) return {};
  errno = 0;
  const bool flushed = pcap_dump_flush(dumper_.get()) == 0;
  const bool clean = std::ferror(pcap_dump_file(dumper_.get())) == 0;
  const std::string why = errno != 0 ? std::strerror(errno) : "write failed";
  dumper_.reset();  // fclose
  return flushed && clean ? std::string{} : why;
}

void PcapWriter::on_connection_start(std::uint64_t t, std::uint32_t c) {
  Flow& f = flows_[c];
  segment(t, c, true, kSyn, {});
  ++f.client_seq;
  segment(t, c, false, kSyn | kAck, {});
  ++f.server_seq;
  segment(t, c, true, kAck, {});
}

void PcapWriter::on_write_complete(std::uint64_t t, std::uint32_t c,
                                   std::span<const std::uint8_t> bytes) {
  send(t, c, false, bytes);
}

void PcapWriter::on_client_flush(std::uint64_t t, std::uint32_t c,
                                 std::span<const std::uint8_t> bytes) {
  send(t, c, true, bytes);
}

void PcapWriter::send(std::uint64_t t, std::uint32_t c, bool from_client,
                      std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const std::size_t n = std::min(bytes.size(), kMaxSegment);
    segment(t, c, from_client, kPsh | kAck, bytes.first(n));
    bytes = bytes.subspan(n);
  }
}

void PcapWriter::segment(std::uint64_t t, std::uint32_t c, bool from_client, std::uint8_t flags,
                         std::span<const std::uint8_t> payload) {
  Flow& f = flows_[c];
  std::vector<std::uint8_t> pkt(kIpHeader + kTcpHeader + payload.size());
  std::uint8_t* ip = pkt.data();
  const auto src = from_client ? client_ip(c) : kServerIp;
  const auto dst = from_client ? kServerIp : client_ip(c);
  ip[0] = 0x45;  // IPv4, 20-byte header
  put16(ip + 2, static_cast<std::uint32_t>(pkt.size()));
  put16(ip + 4, static_cast<std::uint32_t>(packets_ & 0xffff));
  ip[8] = 64;  // TTL
  ip[9] = 6;   // TCP
  std::copy(src.begin(), src.end(), ip + 12);
  std::copy(dst.begin(), dst.end(), ip + 16);
  put16(ip + 10, fold(sum16(ip, kIpHeader)));

  std::uint8_t* tcp = ip + kIpHeader;
  put16(tcp, from_client ? client_port(c) : kServerPort);
  put16(tcp + 2, from_client ? kServerPort : client_port(c));
  std::uint32_t& seq = from_client ? f.client_seq : f.server_seq;
  put32(tcp + 4, seq);
  put32(tcp + 8, (flags & kAck) ? (from_client ? f.server_seq : f.client_seq) : 0);
  tcp[12] = 5 << 4;  // 20-byte header
  tcp[13] = flags;
  put16(tcp + 14, 65535);  // window
  std::copy(payload.begin(), payload.end(), tcp + kTcpHeader);
  // Checksum over the pseudo header (addresses, protocol, TCP length) and the segment.
  std::uint32_t acc =
      sum16(ip + 12, 8) + 6 + static_cast<std::uint32_t>(kTcpHeader + payload.size());
  put16(tcp + 16, fold(sum16(tcp, kTcpHeader + payload.size(), acc)));
  seq += static_cast<std::uint32_t>(payload.size());

  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<time_t>(t / 1'000'000'000);
  h.ts.tv_usec = static_cast<suseconds_t>(t % 1'000'000'000);  // nanoseconds in a nano file
  h.caplen = h.len = static_cast<bpf_u_int32>(pkt.size());
  if (dumper_) pcap_dump(reinterpret_cast<u_char*>(dumper_.get()), &h, pkt.data());
  ++packets_;
}

}  // namespace emitlab::sim
