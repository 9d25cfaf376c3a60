#include "cli/merge.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>
#include <string_view>

namespace emitlab::cli {
namespace {

using nlohmann::json;

constexpr int kSchemaVersion = 1;
// The counts a shard reports and the merge adds up.
constexpr std::array kCounts{"schedules", "cases", "distinct_states", "pruned"};
constexpr std::array kStoppedBy{"max-schedules", "max-seconds", "interrupted", "violation"};

struct Line {
  std::string where;  // FILE or FILE:LINE
  json value;
};

// Thrown by the checks below; becomes merge_shards' error.
struct Bad {
  std::string message;
};

void require(bool ok, const std::string& where, const std::string& what) {
  if (!ok) throw Bad{"bad " + where + ": " + what};
}

const json& field(const Line& l, const char* key) {
  const auto it = l.value.find(key);
  require(it != l.value.end(), l.where, std::string("no \"") + key + "\" field");
  return *it;
}

void check_violation(const Line& l, const json& v, std::size_t i) {
  const std::string what = "violations[" + std::to_string(i) + "]";
  require(v.is_object(), l.where, what + " is not an object");
  for (const char* key : {"rule", "detail", "schedule", "replay"}) {
    require(v.contains(key) && v[key].is_string(), l.where,
            what + " needs \"" + key + "\" as a string");
  }
  require(v.contains("deviations") && v["deviations"].is_number_unsigned(), l.where,
          what + " needs \"deviations\" as a whole number");
  const auto it = v.find("ordinal");
  require(
      it != v.end() && it->is_array() && !it->empty() &&
          std::all_of(it->begin(), it->end(), [](const json& x) { return x.is_number_unsigned(); }),
      l.where, what + " needs \"ordinal\" as a non-empty list of whole numbers");
}

// Every field the schema names, with its type.
void check_line(const Line& l) {
  require(l.value.is_object(), l.where, "the line is not a JSON object");
  const json& version = field(l, "emitlab_campaign");
  require(version == kSchemaVersion, l.where,
          "\"emitlab_campaign\" is " + version.dump() + "; this emitlab reads version 1");
  const json& kind = field(l, "kind");
  require(kind == "explore" || kind == "props", l.where,
          "\"kind\" is " + kind.dump() + "; expected \"explore\" or \"props\"");
  require(field(l, "campaign").is_object(), l.where, "\"campaign\" is not an object");
  const json& shards = field(l, "shards");
  require(shards.is_number_unsigned() && shards.get<std::uint64_t>() >= 1, l.where,
          "\"shards\" is " + shards.dump() + "; expected a whole number >= 1");
  const json& shard = field(l, "shard");
  require(shard.is_number_unsigned() && shard.get<std::uint64_t>() < shards.get<std::uint64_t>(),
          l.where,
          "\"shard\" is " + shard.dump() + "; expected 0.." +
              std::to_string(shards.get<std::uint64_t>() - 1));
  for (const char* key : kCounts) {
    require(
        field(l, key).is_number_unsigned(), l.where,
        std::string("\"") + key + "\" is " + field(l, key).dump() + "; expected a whole number");
  }
  require(field(l, "exhausted").is_boolean(), l.where, "\"exhausted\" is not true or false");
  const json& stopped = field(l, "stopped_by");
  require(
      stopped.is_null() ||
          (stopped.is_string() && std::find(kStoppedBy.begin(), kStoppedBy.end(),
                                            stopped.get<std::string>()) != kStoppedBy.end()),
      l.where,
      "\"stopped_by\" is " + stopped.dump() +
          "; expected null, \"max-schedules\", \"max-seconds\", \"interrupted\" or \"violation\"");
  const json& seconds = field(l, "seconds");
  require(seconds.is_number() && seconds.get<double>() >= 0, l.where,
          "\"seconds\" is " + seconds.dump() + "; expected a number >= 0");
  const json& violations = field(l, "violations");
  require(violations.is_array(), l.where, "\"violations\" is not a list");
  for (std::size_t i = 0; i < violations.size(); ++i) check_violation(l, violations[i], i);
}

// Each file's lines: one or more, each closed by a newline.
std::vector<Line> read_lines(const ShardFile& f) {
  std::vector<Line> lines;
  require(!f.text.empty(), f.name, "empty (the shard wrote no result line)");
  require(f.text.back() == '\n', f.name,
          "truncated: its last line has no closing newline (the shard did not finish writing it)");
  std::size_t start = 0;
  for (int number = 1; start < f.text.size(); ++number) {
    const std::size_t end = f.text.find('\n', start);
    const std::string_view text(f.text.data() + start, end - start);
    start = end + 1;
    const std::string where = f.name + ":" + std::to_string(number);
    require(!text.empty(), where, "empty line (expected one JSON object per line)");
    Line l{where, json::parse(text, nullptr, /*allow_exceptions=*/false)};
    require(!l.value.is_discarded(), where, "not JSON (truncated or corrupt)");
    check_line(l);
    lines.push_back(std::move(l));
  }
  return lines;
}

std::string list(const std::vector<std::uint64_t>& v) {
  std::string out;
  for (const auto x : v) out += (out.empty() ? "" : ", ") + std::to_string(x);
  return out;
}

// The order of violations one unsharded run would meet: fewest deviations, then the ordinal,
// then the shard and the position in its list (ties only between malformed shards).
struct Key {
  std::uint64_t deviations;
  std::vector<std::uint64_t> ordinal;
  std::uint64_t shard;
  std::size_t position;
  auto operator<=>(const Key&) const = default;
};

}  // namespace

std::variant<Merged, std::string> merge_shards(const std::vector<ShardFile>& files) {
  try {
    if (files.empty()) throw Bad{"no shard files given"};
    std::vector<Line> lines;
    for (const auto& f : files) {
      for (auto& l : read_lines(f)) lines.push_back(std::move(l));
    }
    const Line& first = lines.front();
    for (const Line& l : lines) {
      for (const char* key : {"kind", "campaign", "shards"}) {
        require(l.value[key] == first.value[key], l.where,
                std::string("its \"") + key + "\" " + l.value[key].dump() + " differs from " +
                    first.value[key].dump() + " in " + first.where +
                    " (shards of different campaigns)");
      }
    }
    const std::uint64_t n = first.value["shards"].get<std::uint64_t>();
    std::map<std::uint64_t, std::vector<const Line*>> by_shard;
    for (const Line& l : lines) by_shard[l.value["shard"].get<std::uint64_t>()].push_back(&l);
    std::vector<std::uint64_t> missing;
    std::string duplicated;
    for (std::uint64_t k = 0; k < n; ++k) {
      const auto it = by_shard.find(k);
      if (it == by_shard.end()) {
        missing.push_back(k);
      } else if (it->second.size() > 1) {
        duplicated += (duplicated.empty() ? "" : "; ") + std::to_string(k) + " in";
        for (const Line* l : it->second) duplicated += " " + l->where;
      }
    }
    if (!missing.empty() || !duplicated.empty()) {
      std::string message =
          "the shards do not cover the campaign of " + std::to_string(n) + " shards exactly once:";
      if (!missing.empty()) message += " missing shard(s) " + list(missing);
      if (!missing.empty() && !duplicated.empty()) message += ";";
      if (!duplicated.empty()) message += " duplicated shard(s) " + duplicated;
      throw Bad{message};
    }

    Merged m;
    json& r = m.result;
    r = json{{"emitlab_campaign", kSchemaVersion},
             {"merged", true},
             {"kind", first.value["kind"]},
             {"campaign", first.value["campaign"]},
             {"shards", n}};
    for (const char* key : kCounts) r[key] = std::uint64_t{0};
    bool exhausted = true;
    double seconds = 0, slowest = 0;
    std::size_t violations = 0;
    std::optional<Key> best;
    json first_violation = nullptr;
    std::vector<std::string> stopped;
    for (const auto& [k, shard_lines] : by_shard) {
      const json& s = shard_lines.front()->value;
      m.shards.push_back(s);
      for (const char* key : kCounts) {
        r[key] = r[key].get<std::uint64_t>() + s[key].get<std::uint64_t>();
      }
      exhausted = exhausted && s["exhausted"].get<bool>();
      seconds += s["seconds"].get<double>();
      slowest = std::max(slowest, s["seconds"].get<double>());
      if (s["stopped_by"].is_string()) stopped.push_back(s["stopped_by"].get<std::string>());
      for (std::size_t i = 0; i < s["violations"].size(); ++i) {
        const json& v = s["violations"][i];
        ++violations;
        Key key{v["deviations"].get<std::uint64_t>(),
                v["ordinal"].get<std::vector<std::uint64_t>>(), k, i};
        if (!best || key < *best) {
          best = std::move(key);
          first_violation = v;
          first_violation["shard"] = k;
        }
      }
    }
    std::sort(stopped.begin(), stopped.end());
    stopped.erase(std::unique(stopped.begin(), stopped.end()), stopped.end());
    r["exhausted"] = exhausted;
    r["stopped_by"] = stopped;
    r["seconds"] = seconds;
    r["slowest_shard_seconds"] = slowest;
    r["violations"] = violations;
    r["first_violation"] = first_violation;
    m.exit_code = violations > 0 ? kMergeViolation : exhausted ? kMergeClean : kMergeStopped;
    r["verdict"] = violations > 0 ? "violation" : exhausted ? "clean" : "stopped";
    return m;
  } catch (const Bad& e) {
    return e.message;
  }
}

namespace {

std::string secs(const json& j) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", j.get<double>());
  return text;
}

}  // namespace

void print_merged(std::ostream& os, const Merged& m) {
  const json& r = m.result;
  const bool explore = r["kind"] == "explore";
  const auto counts = [explore](const json& j) {
    return explore ? std::to_string(j["schedules"].get<std::uint64_t>()) + " schedules, " +
                         std::to_string(j["distinct_states"].get<std::uint64_t>()) +
                         " distinct states, " + std::to_string(j["pruned"].get<std::uint64_t>()) +
                         " pruned"
                   : std::to_string(j["cases"].get<std::uint64_t>()) + " cases";
  };
  os << r["kind"].get<std::string>() << " campaign " << r["campaign"].dump() << ", " << r["shards"]
     << " shards\n";
  for (const json& s : m.shards) {
    const json& v = s["violations"];
    os << "  shard " << s["shard"] << "/" << s["shards"] << ": "
       << (!v.empty()                   ? "violation " + v[0]["rule"].get<std::string>()
           : s["exhausted"].get<bool>() ? std::string("exhausted")
                                        : "stopped by " + s["stopped_by"].dump())
       << ", " << counts(s) << ", " << secs(s["seconds"]) << "\n";
  }
  os << "total: " << counts(r) << "; " << secs(r["seconds"]) << " over the shards, "
     << secs(r["slowest_shard_seconds"]) << " the slowest\n";
  os << "verdict: " << r["verdict"].get<std::string>();
  if (r["verdict"] == "stopped") os << " by " << r["stopped_by"].dump();
  os << " (exit " << m.exit_code << ")\n";
  if (const json& f = r["first_violation"]; !f.is_null()) {
    os << "first violation (of " << r["violations"] << "): shard " << f["shard"] << ", "
       << f["deviations"] << " deviation(s), ordinal " << f["ordinal"].dump() << "\n"
       << "  " << f["rule"].get<std::string>() << ": " << f["detail"].get<std::string>() << "\n"
       << "  schedule: " << f["schedule"].get<std::string>() << "\n"
       << "  replay: " << f["replay"].get<std::string>() << "\n";
  }
}

}  // namespace emitlab::cli
