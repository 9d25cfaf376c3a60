#include "cli/fields.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "cli/options.h"
#include "core/echo.h"

namespace emitlab::cli {
namespace {

using J = nlohmann::json;
using S = sim::Summary;

Field count(std::string key, std::string header, Group g, bool shown,
            std::function<J(const S&)> v) {
  return {std::move(key), std::move(header), g, shown, Format::Count, 0, std::move(v)};
}

Field fixed(std::string key, std::string header, Group g, bool shown, int digits,
            std::function<J(const S&)> v) {
  return {std::move(key), std::move(header), g, shown, Format::Fixed, digits, std::move(v)};
}

Field of(std::string key, std::string header, Group g, bool shown, Format f,
         std::function<J(const S&)> v) {
  return {std::move(key), std::move(header), g, shown, f, 0, std::move(v)};
}

void quantile_fields(std::vector<Field>& out, const char* key, const char* label,
                     sim::Quantiles S::*q) {
  const std::string k = key;
  const std::string l = label;
  out.push_back(of(k + ".mean", l + "\nmean", Group::Time, false, Format::Duration,
                   [q](const S& s) { return (s.*q).mean; }));
  out.push_back(of(k + ".p50", l + "\np50", Group::Time, true, Format::Duration,
                   [q](const S& s) { return (s.*q).p50; }));
  out.push_back(of(k + ".p99", l + "\np99", Group::Time, true, Format::Duration,
                   [q](const S& s) { return (s.*q).p99; }));
  out.push_back(of(k + ".max", l + "\nmax", Group::Time, false, Format::Duration,
                   [q](const S& s) { return (s.*q).max; }));
}

std::vector<Field> make_fields() {
  constexpr auto D = Group::Delivery;
  constexpr auto P = Group::PassesAndWrites;
  constexpr auto A = Group::AllocationsAndReferences;
  constexpr auto C = Group::Copies;
  constexpr auto W = Group::Wire;
  constexpr auto T = Group::Time;
  constexpr auto X = Group::JsonOnly;
  std::vector<Field> f = {
      of("strategy", "strategy", X, false, Format::Text, [](const S& s) { return s.strategy; }),
      of("mutant", "mutant", D, false, Format::Text, [](const S& s) { return s.mutant; }),
      of("pacing", "pacing", D, false, Format::Text, [](const S& s) { return s.pacing; }),
      of("input_independent", "input\nindependent", D, false, Format::YesNo,
         [](const S& s) { return s.input_independent; }),
      count("connections", "connections", D, false, [](const S& s) { return s.connections; }),
      count("requests", "requests", D, false, [](const S& s) { return s.requests; }),
      count("responses_verified", "responses\nverified", D, true,
            [](const S& s) { return s.responses_verified; }),
      count("responses_failed", "responses\nfailed", D, true,
            [](const S& s) { return s.responses_failed; }),
      count("responses_cancelled", "responses\ncancelled", D, true,
            [](const S& s) { return s.responses_cancelled; }),
      count("connections_failed", "connections\nfailed", D, true,
            [](const S& s) { return s.connections_failed; }),
      of("close_notify_last", "close_notify\nlast", D, false, Format::YesNo,
         [](const S& s) { return s.close_notify_last; }),
      of("peer_verdict", "peer\nverdict", D, false, Format::Text,
         [](const S& s) { return s.peer_verdict; }),
      of("failure", "failure", X, false, Format::Text, [](const S& s) { return s.failure; }),
      of("interrupted", "interrupted", X, false, Format::YesNo,
         [](const S& s) { return s.interrupted; }),
      count("passes", "passes", P, true, [](const S& s) { return s.passes; }),
      count("passes_skipped", "passes\nskipped", P, false,
            [](const S& s) { return s.skipped_passes; }),
      fixed("passes_per_response", "passes\n/resp", P, false, 3,
            [](const S& s) { return s.passes_per_response; }),
      count("ssl_writes", "SSL_write\ncalls", P, true, [](const S& s) { return s.ssl_writes; }),
      count("tls_records", "TLS\nrecords", P, true, [](const S& s) { return s.tls_records; }),
      count("undersized_records", "under-\nsized", P, true,
            [](const S& s) { return s.undersized_records; }),
      count("write_submissions", "write\nsubmits", P, true,
            [](const S& s) { return s.write_submissions; }),
      fixed("records_per_submission", "records\n/submit", P, false, 2,
            [](const S& s) { return s.records_per_submission; }),
      count("parks", "parks", P, true, [](const S& s) { return s.parks; }),
      fixed("emitter_allocs_per_pass_mean", "allocs\n/pass", A, true, 2,
            [](const S& s) { return s.emitter_allocs_per_pass_mean; }),
      count("emitter_allocs_per_pass_p99", "allocs\n/pass p99", A, false,
            [](const S& s) { return s.emitter_allocs_per_pass_p99; }),
      count("emitter_allocs_per_pass_max", "allocs\n/pass max", A, true,
            [](const S& s) { return s.emitter_allocs_per_pass_max; }),
      count("emitter_allocs", "emitter\nallocs", A, false,
            [](const S& s) { return s.emitter_allocs; }),
      count("emitter_frees", "emitter\nfrees", A, false,
            [](const S& s) { return s.emitter_frees; }),
  };
  for (std::size_t i = 0; i < kAllocOwners; ++i) {
    const auto owner = static_cast<AllocOwner>(i);
    const std::string name(to_string(owner));
    f.push_back(fixed(
        "allocs_per_response." + name, "allocs/resp\n" + name, A, false, 2, [i, owner](const S& s) {
          const bool counted =
              s.allocations_counted && (owner != AllocOwner::OpenSsl || s.openssl_counted);
          return counted ? J(s.allocs_per_response[i]) : J(nullptr);
        }));
  }
  const std::vector<Field> refs = {
      count("alloc_violations", "alloc\nviolations", A, false,
            [](const S& s) { return s.alloc_violations; }),
      count("leaked_blocks", "leaked\nblocks", A, false,
            [](const S& s) { return s.leaked_blocks; }),
      count("ref_ops", "ref\nops", A, true, [](const S& s) { return s.ref_ops; }),
      fixed("ref_ops_per_pass", "ref ops\n/pass", A, true, 2,
            [](const S& s) { return s.ref_ops_per_pass; }),
      count("objects_destroyed_in_passes", "destroyed\nin passes", A, false,
            [](const S& s) { return s.objects_destroyed_in_passes; }),
      count("bytes_copied", "bytes\ncopied", C, true, [](const S& s) { return s.bytes_copied; }),
      fixed("bytes_copied_per_response", "copied\n/resp", C, true, 1,
            [](const S& s) { return s.bytes_copied_per_response; }),
  };
  f.insert(f.end(), refs.begin(), refs.end());
  for (std::size_t i = 0; i < kCopySites; ++i) {
    const std::string name(to_string(static_cast<CopySite>(i)));
    f.push_back(fixed("copied_per_response." + name, "copied/resp\n" + name, C, false, 1,
                      [i](const S& s) { return s.copied_per_response[i]; }));
  }
  const std::vector<Field> rest = {
      count("app_bytes", "application\nbytes", W, true, [](const S& s) { return s.app_bytes; }),
      count("wire_bytes", "wire\nbytes", W, true, [](const S& s) { return s.wire_bytes; }),
      count("wire_overhead_bytes", "overhead\nbytes", W, false,
            [](const S& s) { return s.wire_overhead_bytes; }),
      of("wire_overhead", "over-\nhead", W, true, Format::Percent,
         [](const S& s) { return s.wire_overhead; }),
      of("app_sha256", "app sha256", W, false, Format::Text,
         [](const S& s) { return s.app_sha256; }),
      of("wire_sha256", "wire sha256", W, false, Format::Text,
         [](const S& s) { return s.wire_sha256; }),
  };
  f.insert(f.end(), rest.begin(), rest.end());
  quantile_fields(f, "ttfb_ns", "first byte", &S::ttfb_ns);
  quantile_fields(f, "ttlb_ns", "last byte", &S::ttlb_ns);
  const std::vector<Field> time = {
      of("virtual_ns", "virtual\ntime", T, true, Format::Duration,
         [](const S& s) { return s.virtual_ns; }),
      count("events", "events", T, false, [](const S& s) { return s.events; }),
      count("choices", "choices", T, false, [](const S& s) { return s.choices; }),
      count("pings_sent", "pings\nsent", T, false, [](const S& s) { return s.pings_sent; }),
      count("pings_acked", "pings\nacked", T, false, [](const S& s) { return s.pings_acked; }),
      of("replay", "replay", X, false, Format::Text, [](const S& s) { return s.replay; }),
      fixed("host.cpu_seconds", "host\nCPU s", T, true, 3,
            [](const S& s) { return s.cpu_seconds; }),
      fixed("host.responses_per_cpu_second", "host\nresp/CPU s", T, true, 0,
            [](const S& s) { return s.responses_per_cpu_second; }),
  };
  f.insert(f.end(), time.begin(), time.end());
  return f;
}

std::string fixed_text(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

struct Unit {
  const char* name;
  double ns;
};

// The largest unit in which the column's largest value is at least 10 (three digits at
// least, with the one decimal every cell of the column gets).
Unit duration_unit(double largest) {
  static constexpr Unit kUnits[] = {{"s", 1e9}, {"ms", 1e6}, {"us", 1e3}};
  for (const auto& u : kUnits) {
    if (largest >= 10 * u.ns) return u;
  }
  return {"ns", 1};
}

}  // namespace

// One row per group, both of its names: the table heading and the word --fields takes.
struct GroupNames {
  Group group;
  const char* heading;
  const char* name;
};
constexpr GroupNames kGroupNames[] = {
    {Group::Delivery, "delivery", "delivery"},
    {Group::PassesAndWrites, "passes and writes", "passes"},
    {Group::AllocationsAndReferences, "allocations and references", "allocations"},
    {Group::Copies, "copies", "copies"},
    {Group::Wire, "wire", "wire"},
    {Group::Time, "time", "time"},
};

const GroupNames* names_of(Group g) {
  for (const auto& n : kGroupNames)
    if (n.group == g) return &n;
  return nullptr;  // Group::JsonOnly: shown in --json only
}

const char* heading(Group g) {
  const GroupNames* n = names_of(g);
  return n ? n->heading : "json";
}

const char* group_name(Group g) {
  const GroupNames* n = names_of(g);
  return n ? n->name : "json";
}

const std::vector<Field>& summary_fields() {
  static const std::vector<Field> kFields = make_fields();
  return kFields;
}

const Field* find_field(const std::string& key) {
  for (const auto& f : summary_fields()) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

nlohmann::json to_json(const sim::Summary& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : summary_fields()) {
    std::string pointer = "/" + f.key;
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    j[nlohmann::json::json_pointer(pointer)] = f.value(s);
  }
  return j;
}

std::vector<Flag> view_flags() {
  std::string groups;
  for (Group g : kTableGroups) groups += std::string(groups.empty() ? "" : ", ") + group_name(g);
  return {
      switch_flag("--wide", "text: print every field, not only the default ones"),
      text_flag("--fields", "LIST", "JSON field names or groups (" + groups + "), comma-separated",
                "text: print only these fields"),
      switch_flag("--show-replay", "text: print every run's replay line, not only failed ones'"),
  };
}

View view_of(const Args& args) {
  View v;
  v.wide = args.has("--wide");
  v.fields = args.value("--fields");
  v.show_replay = args.has("--show-replay");
  chosen_fields(v);  // a bad --fields is bad input before any run
  return v;
}

std::vector<const Field*> chosen_fields(const View& view) {
  std::vector<const Field*> out;
  if (view.fields.empty()) {
    for (const auto& f : summary_fields()) {
      if (f.group != Group::JsonOnly && (view.wide || f.shown)) out.push_back(&f);
    }
    return out;
  }
  if (view.wide) throw UsageError{"--wide prints every field: give it or --fields, not both"};
  std::set<const Field*> chosen;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = view.fields.find(',', start);
    const std::string name = view.fields.substr(start, comma - start);
    bool known = false;
    for (const auto& f : summary_fields()) {
      if (f.group == Group::JsonOnly) continue;
      if (f.key == name || group_name(f.group) == name) {
        chosen.insert(&f);
        known = true;
      }
    }
    if (!known) {
      std::string allowed;
      for (Group g : kTableGroups)
        allowed += std::string(allowed.empty() ? "" : ", ") + group_name(g);
      throw UsageError{"bad --fields " + echo(name) + ": expected a field name of the JSON (" +
                       "e.g. tls_records, ttfb_ns.p99) or a group (" + allowed + ")"};
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (const auto& f : summary_fields()) {
    if (chosen.count(&f) != 0) out.push_back(&f);
  }
  return out;
}

ColumnText column_text(const Field& f, const std::vector<sim::Summary>& runs) {
  ColumnText c{f.header, f.format != Format::Text && f.format != Format::YesNo, {}};
  std::vector<nlohmann::json> values;
  double largest = 0;
  for (const auto& s : runs) {
    values.push_back(f.value(s));
    if (values.back().is_number()) largest = std::max(largest, values.back().get<double>());
  }
  const Unit unit = duration_unit(largest);
  if (f.format == Format::Duration) c.header += std::string(" (") + unit.name + ")";
  for (const auto& v : values) {
    if (v.is_null()) {
      c.cells.emplace_back("n/a");
      continue;
    }
    switch (f.format) {
      case Format::Count:
        c.cells.push_back(std::to_string(v.get<std::uint64_t>()));
        break;
      case Format::Fixed:
        c.cells.push_back(fixed_text(v.get<double>(), f.digits));
        break;
      case Format::Percent:
        c.cells.push_back(fixed_text(v.get<double>() * 100, 1) + "%");
        break;
      case Format::Duration:
        c.cells.push_back(fixed_text(v.get<double>() / unit.ns, unit.ns == 1 ? 0 : 1));
        break;
      case Format::Text:
        c.cells.push_back(v.get<std::string>());
        break;
      case Format::YesNo:
        c.cells.emplace_back(v.get<bool>() ? "yes" : "no");
        break;
    }
  }
  return c;
}

}  // namespace emitlab::cli
