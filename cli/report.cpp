#include "cli/report.h"

#include <cstdio>
#include <functional>
#include <string>
#include <utility>

namespace emitlab::cli {
namespace {

// One row of figures, shared by the single-run and the side-by-side forms.
struct Row {
  std::string label;
  std::function<std::string(const sim::Summary&)> value;
  bool wide = false;  // hashes and tokens: listed below the table when runs stand side by side
};

std::string fixed(double v, int digits = 2) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string num(std::uint64_t v) {
  return std::to_string(v);
}

std::string duration(std::uint64_t ns) {
  if (ns < 10'000) return num(ns) + " ns";
  if (ns < 10'000'000) return fixed(static_cast<double>(ns) / 1e3, 1) + " us";
  return fixed(static_cast<double>(ns) / 1e6, 1) + " ms";
}

std::vector<Row> rows() {
  std::vector<Row> r = {
      {"mutant",
       [](const auto& s) {
         return s.mutant == "none" ? s.mutant : s.mutant + " (a fault point armed: bug zoo)";
       }},
      {"pacing",
       [](const auto& s) {
         return s.pacing + (s.input_independent ? " (input-independent)" : " (timing-dependent)");
       }},
      {"connections", [](const auto& s) { return num(s.connections); }},
      {"requests", [](const auto& s) { return num(s.requests); }},
      {"responses verified", [](const auto& s) { return num(s.responses_verified); }},
      {"responses failed", [](const auto& s) { return num(s.responses_failed); }},
      {"responses cancelled", [](const auto& s) { return num(s.responses_cancelled); }},
      {"connections failed", [](const auto& s) { return num(s.connections_failed); }},
      {"peer verdict", [](const auto& s) { return s.peer_verdict; }},
      {"passes", [](const auto& s) { return num(s.passes); }},
      {"passes skipped (gate)", [](const auto& s) { return num(s.skipped_passes); }},
      {"passes/response", [](const auto& s) { return fixed(s.passes_per_response, 3); }},
      {"SSL_write calls", [](const auto& s) { return num(s.ssl_writes); }},
      {"TLS records", [](const auto& s) { return num(s.tls_records); }},
      {"write submissions", [](const auto& s) { return num(s.write_submissions); }},
      {"records/submission", [](const auto& s) { return fixed(s.records_per_submission); }},
      {"parks", [](const auto& s) { return num(s.parks); }},
      {"emitter allocs/pass mean",
       [](const auto& s) { return fixed(s.emitter_allocs_per_pass_mean); }},
      {"emitter allocs/pass p99", [](const auto& s) { return num(s.emitter_allocs_per_pass_p99); }},
      {"emitter allocs/pass max", [](const auto& s) { return num(s.emitter_allocs_per_pass_max); }},
  };
  for (std::size_t i = 0; i < kAllocOwners; ++i) {
    const auto owner = static_cast<AllocOwner>(i);
    r.push_back({"allocs/response " + std::string(to_string(owner)), [i, owner](const auto& s) {
                   if (!s.allocations_counted) return std::string("not counted");
                   if (owner == AllocOwner::OpenSsl && !s.openssl_counted) {
                     return std::string("not counted");
                   }
                   return fixed(s.allocs_per_response[i]);
                 }});
  }
  const std::vector<Row> more = {
      {"reference operations", [](const auto& s) { return num(s.ref_ops); }},
      {"ref ops/pass", [](const auto& s) { return fixed(s.ref_ops_per_pass); }},
      {"objects destroyed in passes",
       [](const auto& s) { return num(s.objects_destroyed_in_passes); }},
      {"bytes copied", [](const auto& s) { return num(s.bytes_copied); }},
  };
  r.insert(r.end(), more.begin(), more.end());
  for (std::size_t i = 0; i < kCopySites; ++i) {
    r.push_back({"copied/response " + std::string(to_string(static_cast<CopySite>(i))),
                 [i](const auto& s) { return fixed(s.copied_per_response[i], 1); }});
  }
  const std::vector<Row> rest = {
      {"application bytes", [](const auto& s) { return num(s.app_bytes); }},
      {"wire bytes", [](const auto& s) { return num(s.wire_bytes); }},
      {"wire overhead",
       [](const auto& s) {
         return num(s.wire_overhead_bytes) + " (" + fixed(100 * s.wire_overhead, 1) + "%)";
       }},
      {"first byte p50/p99",
       [](const auto& s) { return duration(s.ttfb_ns.p50) + " / " + duration(s.ttfb_ns.p99); }},
      {"last byte p50/p99",
       [](const auto& s) { return duration(s.ttlb_ns.p50) + " / " + duration(s.ttlb_ns.p99); }},
      {"virtual time", [](const auto& s) { return duration(s.virtual_ns); }},
      {"events", [](const auto& s) { return num(s.events); }},
      {"choices", [](const auto& s) { return num(s.choices); }},
      {"pings sent/acked",
       [](const auto& s) { return num(s.pings_sent) + "/" + num(s.pings_acked); }},
      {"close_notify last", [](const auto& s) { return s.close_notify_last ? "yes" : "no"; }},
      {"world speed (host)",
       [](const auto& s) {
         return fixed(s.responses_per_cpu_second, 0) + " responses/CPU s (" +
                fixed(s.cpu_seconds, 3) + " s)";
       }},
      {"app sha256", [](const auto& s) { return s.app_sha256; }, true},
      {"wire sha256", [](const auto& s) { return s.wire_sha256; }, true},
      {"replay", [](const auto& s) { return s.replay; }, true},
  };
  r.insert(r.end(), rest.begin(), rest.end());
  return r;
}

void pad(std::ostream& out, const std::string& text, std::size_t width) {
  out << text;
  for (std::size_t i = text.size(); i < width; ++i) out << ' ';
}

nlohmann::json quantiles(const sim::Quantiles& q) {
  return {{"mean", q.mean}, {"p50", q.p50}, {"p99", q.p99}, {"max", q.max}};
}

}  // namespace

nlohmann::json to_json(const sim::Summary& s) {
  nlohmann::json owners = nlohmann::json::object();
  for (std::size_t i = 0; i < kAllocOwners; ++i) {
    const auto owner = static_cast<AllocOwner>(i);
    const bool counted =
        s.allocations_counted && (owner != AllocOwner::OpenSsl || s.openssl_counted);
    owners[std::string(to_string(owner))] =
        counted ? nlohmann::json(s.allocs_per_response[i]) : nlohmann::json(nullptr);
  }
  nlohmann::json copied = nlohmann::json::object();
  for (std::size_t i = 0; i < kCopySites; ++i) {
    copied[std::string(to_string(static_cast<CopySite>(i)))] = s.copied_per_response[i];
  }
  return {
      {"strategy", s.strategy},
      {"mutant", s.mutant},
      {"pacing", s.pacing},
      {"input_independent", s.input_independent},
      {"connections", s.connections},
      {"requests", s.requests},
      {"responses_verified", s.responses_verified},
      {"responses_failed", s.responses_failed},
      {"responses_cancelled", s.responses_cancelled},
      {"connections_failed", s.connections_failed},
      {"failure", s.failure},
      {"peer_verdict", s.peer_verdict},
      {"interrupted", s.interrupted},
      {"passes", s.passes},
      {"passes_skipped", s.skipped_passes},
      {"passes_per_response", s.passes_per_response},
      {"ssl_writes", s.ssl_writes},
      {"tls_records", s.tls_records},
      {"write_submissions", s.write_submissions},
      {"records_per_submission", s.records_per_submission},
      {"parks", s.parks},
      {"emitter_allocs", s.emitter_allocs},
      {"emitter_frees", s.emitter_frees},
      {"emitter_allocs_per_pass_mean", s.emitter_allocs_per_pass_mean},
      {"emitter_allocs_per_pass_p99", s.emitter_allocs_per_pass_p99},
      {"emitter_allocs_per_pass_max", s.emitter_allocs_per_pass_max},
      {"allocs_per_response", owners},
      {"alloc_violations", s.alloc_violations},
      {"leaked_blocks", s.leaked_blocks},
      {"ref_ops", s.ref_ops},
      {"ref_ops_per_pass", s.ref_ops_per_pass},
      {"objects_destroyed_in_passes", s.objects_destroyed_in_passes},
      {"bytes_copied", s.bytes_copied},
      {"copied_per_response", copied},
      {"app_bytes", s.app_bytes},
      {"wire_bytes", s.wire_bytes},
      {"wire_overhead_bytes", s.wire_overhead_bytes},
      {"wire_overhead", s.wire_overhead},
      {"ttfb_ns", quantiles(s.ttfb_ns)},
      {"ttlb_ns", quantiles(s.ttlb_ns)},
      {"virtual_ns", s.virtual_ns},
      {"events", s.events},
      {"choices", s.choices},
      {"pings_sent", s.pings_sent},
      {"pings_acked", s.pings_acked},
      {"close_notify_last", s.close_notify_last},
      {"app_sha256", s.app_sha256},
      {"wire_sha256", s.wire_sha256},
      {"replay", s.replay},
      {"host",
       {{"cpu_seconds", s.cpu_seconds}, {"responses_per_cpu_second", s.responses_per_cpu_second}}}};
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
  constexpr std::size_t kLabel = 32;
  const std::size_t width = runs.size() == 1 ? 0 : 22;
  const auto all = rows();
  pad(out, "strategy", kLabel);
  for (const auto& s : runs) pad(out, s.strategy, width);
  out << '\n';
  for (const auto& row : all) {
    if (row.wide && width != 0) continue;
    pad(out, row.label, kLabel);
    for (const auto& s : runs) pad(out, row.value(s), width);
    out << '\n';
  }
  for (const auto& row : all) {
    if (!row.wide || width == 0) continue;
    for (const auto& s : runs) {
      pad(out, row.label, kLabel);
      out << row.value(s) << "  " << s.strategy << '\n';
    }
  }
  for (const auto& s : runs) {
    if (s.interrupted) {
      out << s.strategy << ": INTERRUPTED: " << s.failure << " (the figures are of what ran)\n";
    } else if (!s.failure.empty()) {
      out << s.strategy << ": FAILED: " << s.failure << '\n';
    }
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
