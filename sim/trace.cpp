#include "sim/trace.h"

#include <array>

namespace emitlab::sim {
namespace {

// A JSON object of per-site counts, keyed by the site enum's names, in enum order.
template <class Site, class Count, std::size_t N>
void by_site(std::ostream& o, const std::array<Count, N>& counts) {
  o << '{';
  for (std::size_t i = 0; i < N; ++i) {
    o << (i ? "," : "") << '"' << to_string(static_cast<Site>(i)) << "\":" << counts[i];
  }
  o << '}';
}

// One pass record field as JSON: a number, a boolean, the kind's name, or an object of
// per-site counts.
void value(std::ostream& o, std::uint64_t v) {
  o << v;
}
void value(std::ostream& o, std::uint32_t v) {
  o << v;
}
void value(std::ostream& o, bool v) {
  o << (v ? "true" : "false");
}
void value(std::ostream& o, PassKind v) {
  o << '"' << to_string(v) << '"';
}
void value(std::ostream& o, const AllocCounts& v) {
  by_site<AllocSite>(o, v);
}
void value(std::ostream& o, const CopyCounts& v) {
  by_site<CopySite>(o, v);
}

}  // namespace

const char* frame_type_name(std::uint8_t type) {
  static constexpr const char* kNames[] = {
      "DATA",         "HEADERS", "PRIORITY", "RST_STREAM",    "SETTINGS",
      "PUSH_PROMISE", "PING",    "GOAWAY",   "WINDOW_UPDATE", "CONTINUATION"};
  return type < std::size(kNames) ? kNames[type] : "UNKNOWN";
}

std::ostream& TraceWriter::line(std::uint64_t t, std::uint32_t c, const char* ev) {
  return *out_ << "{\"t\":" << t << ",\"c\":" << c << ",\"ev\":\"" << ev << '"';
}

void TraceWriter::on_connection_start(std::uint64_t t, std::uint32_t c) {
  line(t, c, "connection_start") << "}\n";
}

void TraceWriter::on_pass_begin(std::uint64_t t, std::uint32_t c, std::uint64_t pass) {
  line(t, c, "pass_begin") << ",\"pass\":" << pass << "}\n";
}

void TraceWriter::on_pass_end(std::uint64_t t, std::uint32_t c, const PassRecord& r) {
  std::ostream& o = line(t, c, "pass_end");
  o << ",\"pass\":" << r.index << ",\"record\":{";
  const char* sep = "";
#define EMITLAB_TRACE_PASS_FIELD(type, name, roles) \
  if constexpr ((roles) != kPassIndex) {            \
    o << sep << "\"" #name "\":";                   \
    value(o, r.name);                               \
    sep = ",";                                      \
  }
  EMITLAB_PASS_RECORD_FIELDS(EMITLAB_TRACE_PASS_FIELD)
#undef EMITLAB_TRACE_PASS_FIELD
  o << "}}\n";
}

void TraceWriter::on_write_submit(std::uint64_t t, std::uint32_t c, std::size_t bytes, bool sync) {
  line(t, c, "write_submit") << ",\"bytes\":" << bytes << ",\"sync\":" << (sync ? "true" : "false")
                             << "}\n";
}

void TraceWriter::on_write_complete(std::uint64_t t, std::uint32_t c,
                                    std::span<const std::uint8_t> bytes) {
  line(t, c, "write_complete") << ",\"bytes\":" << bytes.size() << "}\n";
}

void TraceWriter::on_peer_read(std::uint64_t t, std::uint32_t c, std::size_t bytes,
                               std::uint64_t left) {
  line(t, c, "peer_read") << ",\"bytes\":" << bytes << ",\"left\":" << left << "}\n";
}

void TraceWriter::on_client_flush(std::uint64_t t, std::uint32_t c,
                                  std::span<const std::uint8_t> bytes) {
  line(t, c, "client_flush") << ",\"bytes\":" << bytes.size() << "}\n";
}

void TraceWriter::on_deliver(std::uint64_t t, std::uint32_t c, std::size_t bytes, bool after_pass) {
  line(t, c, "deliver") << ",\"bytes\":" << bytes
                        << ",\"after_pass\":" << (after_pass ? "true" : "false") << "}\n";
}

void TraceWriter::on_frame(std::uint64_t t, std::uint32_t c, const FrameInfo& f, bool outbound) {
  line(t, c, "frame") << ",\"dir\":\"" << (outbound ? "send" : "recv") << "\",\"type\":\""
                      << frame_type_name(f.type) << "\",\"flags\":" << unsigned{f.flags}
                      << ",\"stream\":" << f.stream_id << ",\"length\":" << f.length << "}\n";
}

void TraceWriter::on_connection_end(std::uint64_t t, std::uint32_t c, bool aborted) {
  line(t, c, "connection_end") << ",\"aborted\":" << (aborted ? "true" : "false") << "}\n";
}

}  // namespace emitlab::sim
