#include "cli/report.h"

#include <cstdio>
#include <functional>
#include <string>
#include <utility>

namespace emitlab::cli {
namespace {

// One row of figures, shared by the single-run and the side-by-side forms.
struct Row {
  const char* label;
  std::function<std::string(const sim::Summary&)> value;
  bool wide = false;  // hashes: listed below the table when several runs stand side by side
};

std::string fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = {
      {"responses verified", [](const auto& s) { return std::to_string(s.responses_verified); }},
      {"responses failed", [](const auto& s) { return std::to_string(s.responses_failed); }},
      {"passes", [](const auto& s) { return std::to_string(s.passes); }},
      {"passes skipped (gate)", [](const auto& s) { return std::to_string(s.skipped_passes); }},
      {"SSL_write calls", [](const auto& s) { return std::to_string(s.ssl_writes); }},
      {"TLS records", [](const auto& s) { return std::to_string(s.tls_records); }},
      {"write submissions", [](const auto& s) { return std::to_string(s.write_submissions); }},
      {"parks", [](const auto& s) { return std::to_string(s.parks); }},
      {"emitter allocs/pass mean",
       [](const auto& s) { return fixed2(s.emitter_allocs_per_pass_mean); }},
      {"emitter allocs/pass max",
       [](const auto& s) { return std::to_string(s.emitter_allocs_per_pass_max); }},
      {"reference operations", [](const auto& s) { return std::to_string(s.ref_ops); }},
      {"bytes copied", [](const auto& s) { return std::to_string(s.bytes_copied); }},
      {"application bytes", [](const auto& s) { return std::to_string(s.app_bytes); }},
      {"wire bytes", [](const auto& s) { return std::to_string(s.wire_bytes); }},
      {"close_notify last", [](const auto& s) { return s.close_notify_last ? "yes" : "no"; }},
      {"app sha256", [](const auto& s) { return s.app_sha256; }, true},
      {"wire sha256", [](const auto& s) { return s.wire_sha256; }, true},
  };
  return kRows;
}

void pad(std::ostream& out, const std::string& text, std::size_t width) {
  out << text;
  for (std::size_t i = text.size(); i < width; ++i) out << ' ';
}

}  // namespace

nlohmann::json to_json(const sim::Summary& s) {
  return {{"strategy", s.strategy},
          {"responses_verified", s.responses_verified},
          {"responses_failed", s.responses_failed},
          {"failure", s.failure},
          {"passes", s.passes},
          {"passes_skipped", s.skipped_passes},
          {"ssl_writes", s.ssl_writes},
          {"tls_records", s.tls_records},
          {"write_submissions", s.write_submissions},
          {"parks", s.parks},
          {"emitter_allocs", s.emitter_allocs},
          {"emitter_frees", s.emitter_frees},
          {"emitter_allocs_per_pass_mean", s.emitter_allocs_per_pass_mean},
          {"emitter_allocs_per_pass_max", s.emitter_allocs_per_pass_max},
          {"ref_ops", s.ref_ops},
          {"bytes_copied", s.bytes_copied},
          {"app_bytes", s.app_bytes},
          {"wire_bytes", s.wire_bytes},
          {"close_notify_last", s.close_notify_last},
          {"app_sha256", s.app_sha256},
          {"wire_sha256", s.wire_sha256}};
}

nlohmann::json to_json(const PairVerdict& p) {
  return {{"a", p.a},
          {"b", p.b},
          {"app_equal", p.app_equal},
          {"wire_equal", p.wire_equal},
          {"app_promised", p.app_promised},
          {"wire_promised", p.wire_promised}};
}

void print_summary(std::ostream& out, const sim::Summary& s) {
  print_comparison(out, {s}, {});
}

void print_comparison(std::ostream& out, const std::vector<sim::Summary>& runs,
                      const std::vector<PairVerdict>& pairs) {
  constexpr std::size_t kLabel = 26;
  const std::size_t width = runs.size() == 1 ? 0 : 18;
  pad(out, "strategy", kLabel);
  for (const auto& s : runs) pad(out, s.strategy, width);
  out << '\n';
  for (const auto& row : rows()) {
    if (row.wide && width != 0) continue;
    pad(out, row.label, kLabel);
    for (const auto& s : runs) pad(out, row.value(s), width);
    out << '\n';
  }
  for (const auto& row : rows()) {
    if (!row.wide || width == 0) continue;
    for (const auto& s : runs) {
      pad(out, row.label, kLabel);
      out << row.value(s) << "  " << s.strategy << '\n';
    }
  }
  for (const auto& s : runs) {
    if (!s.failure.empty()) out << s.strategy << ": FAILED: " << s.failure << '\n';
  }
  for (const auto& p : pairs) {
    auto say = [](bool equal, bool promised) {
      return std::string(equal ? "identical" : "different") +
             (promised ? " (promised)" : " (not promised)") +
             (promised && !equal ? "  BROKEN PROMISE" : "");
    };
    out << p.a << " vs " << p.b << ": application stream " << say(p.app_equal, p.app_promised)
        << "; ciphertext " << say(p.wire_equal, p.wire_promised) << '\n';
  }
}

}  // namespace emitlab::cli
