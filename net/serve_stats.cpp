#include "net/serve_stats.h"

#include <nlohmann/json.hpp>

#include <iomanip>

namespace emitlab::net {
namespace {

double ratio(std::uint64_t a, std::uint64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

}  // namespace

double ServeStats::per_response(std::uint64_t count) const {
  return ratio(count, responses);
}

double ServeStats::records_per_write() const {
  return ratio(tls_records, write_submissions);
}

double ServeStats::emitter_allocations_per_pass() const {
  return ratio(emitter_allocations, passes);
}

void write_text(std::ostream& out, const ServeStats& s) {
  out << "emitlab serve statistics: strategy " << s.strategy << ", body " << s.body << " B, "
      << s.listen << '\n';
#define EMITLAB_PRINT(name) \
  out << "  " << std::left << std::setw(24) << #name << ' ' << s.name << '\n';
  EMITLAB_SERVE_COUNTS(EMITLAB_PRINT)
#undef EMITLAB_PRINT
  const auto flags = out.flags();
  out << std::fixed << std::setprecision(3);
  out << "  per response: cpu_us " << s.per_response(s.cpu_us) << ", write_submissions "
      << s.per_response(s.write_submissions) << ", write_syscalls "
      << s.per_response(s.write_syscalls) << ", tls_records " << s.per_response(s.tls_records)
      << ", undersized_records " << s.per_response(s.undersized_records) << ", page_faults "
      << s.per_response(s.page_faults) << ", bytes_copied " << s.per_response(s.bytes_copied)
      << '\n';
  out << "  records per write " << s.records_per_write() << ", emitter allocations per pass "
      << s.emitter_allocations_per_pass() << ", reference operations per response "
      << s.per_response(s.reference_operations) << '\n';
  out.flags(flags);
}

std::string to_json(const ServeStats& s) {
  nlohmann::ordered_json j;
  j["strategy"] = s.strategy;
  j["body"] = s.body;
  j["listen"] = s.listen;
#define EMITLAB_JSON(name) j[#name] = s.name;
  EMITLAB_SERVE_COUNTS(EMITLAB_JSON)
#undef EMITLAB_JSON
  j["per_response"] = {
      {"cpu_us", s.per_response(s.cpu_us)},
      {"write_submissions", s.per_response(s.write_submissions)},
      {"write_syscalls", s.per_response(s.write_syscalls)},
      {"tls_records", s.per_response(s.tls_records)},
      {"undersized_records", s.per_response(s.undersized_records)},
      {"page_faults", s.per_response(s.page_faults)},
      {"bytes_copied", s.per_response(s.bytes_copied)},
      {"reference_operations", s.per_response(s.reference_operations)},
  };
  j["records_per_write"] = s.records_per_write();
  j["emitter_allocations_per_pass"] = s.emitter_allocations_per_pass();
  return j.dump(2) + "\n";
}

}  // namespace emitlab::net
