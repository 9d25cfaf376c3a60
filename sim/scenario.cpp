#include "sim/scenario.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/byte_size.h"
#include "core/wire_limits.h"
#include "sim/json_reader.h"

namespace emitlab::sim {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::uint64_t kSecond = 1'000'000'000;
constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kMaxWindow = 0x7fffffff;

template <class E>
using Names = std::span<const std::pair<std::string_view, E>>;

constexpr std::pair<std::string_view, Pacing> kPacings[] = {{"lockstep", Pacing::Lockstep},
                                                            {"closed-loop", Pacing::ClosedLoop}};
constexpr std::pair<std::string_view, CompletionMode> kCompletions[] = {
    {"sync", CompletionMode::Sync},
    {"async", CompletionMode::Async},
    {"mixed", CompletionMode::Mixed}};
constexpr std::pair<std::string_view, WindowPolicy> kWindows[] = {
    {"wide", WindowPolicy::Wide},
    {"eager", WindowPolicy::Eager},
    {"half", WindowPolicy::Half},
    {"stingy", WindowPolicy::Stingy},
    {"withheld", WindowPolicy::Withheld}};

template <class E>
std::string_view name_of(E value, std::type_identity_t<Names<E>> names) {
  for (const auto& [n, v] : names) {
    if (v == value) return n;
  }
  return "?";
}

template <class E>
std::string alternatives(Names<E> names) {
  std::string out;
  for (const auto& [n, v] : names) out += (out.empty() ? "" : "|") + std::string(n);
  return out;
}

// Every field of a scenario, declared once: the reader and the writer both walk this.
template <class V>
void describe(Scenario& s, V& v) {
  v.u64("version", nullptr, Scenario::kVersion, Scenario::kVersion);
  v.u64("seed", &s.seed, 0, std::numeric_limits<std::uint64_t>::max());
  v.strategy("strategy", s.strategy);
  v.mutant("mutant", s.mutant);
  v.object("workload", [&] {
    auto& w = s.workload;
    v.u32("connections", w.connections, 1, 10000);
    v.u32("open_connections", w.open_connections, 0, 10000);
    v.u32("concurrency", w.concurrency, 1, 100);
    v.u32("requests", w.requests, 1, 10'000'000);
    v.choice("pacing", w.pacing, kPacings);
    v.range("body", w.body, 0, kGiB, true);
    v.object("kinds", [&] {
      v.u32("buffered", w.kinds.buffered, 0, 1000);
      v.u32("streaming", w.kinds.streaming, 0, 1000);
      v.u32("head", w.kinds.head, 0, 1000);
      v.u32("empty", w.kinds.empty, 0, 1000);
      v.u32("shared", w.kinds.shared, 0, 1000);
    });
    v.u32("trailers_permille", w.trailers_permille, 0, 1000);
    v.range("request_headers", w.request_headers, 0, 64, false);
    v.range("header_value", w.header_value, 0, 4096, true);
    v.range("handler_delay_ns", w.handler_delay_ns, 0, kSecond, false);
    v.range("stream_chunk", w.stream_chunk, 1, kMiB, true);
    v.range("stream_interval_ns", w.stream_interval_ns, 0, kSecond, false);
  });
  v.object("link", [&] {
    auto& l = s.link;
    v.choice("completions", l.completions, kCompletions);
    v.u32("sync_permille", l.sync_permille, 0, 1000);
    v.range("write_delay_ns", l.write_delay_ns, 0, kSecond, false);
    v.range("latency_ns", l.latency_ns, 0, kSecond, false);
    v.u64("bandwidth", &l.bandwidth, 0, std::uint64_t{1} << 40);
    v.size("buffer", l.buffer, 1024, 64 * kMiB);
    v.range("read_chunk", l.read_chunk, 1, kMiB, true);
    v.range("read_delay_ns", l.read_delay_ns, 0, kSecond, false);
    v.u32("pause_permille", l.pause_permille, 0, 1000);
    v.range("pause_ns", l.pause_ns, 0, kSecond, false);
  });
  v.object("peer", [&] {
    auto& p = s.peer;
    v.choice("window", p.window, kWindows);
    v.u32("initial_window", p.initial_window, 1, kMaxWindow);
    v.u32("connection_window", p.connection_window, 65535, kMaxWindow);
    v.u32("stingy_increment", p.stingy_increment, 1, kMaxWindow);
    v.range("window_delay_ns", p.window_delay_ns, 1, kSecond, false);
    v.u32("ping_permille", p.ping_permille, 0, 1000);
    v.u32("reset_permille", p.reset_permille, 0, 1000);
    v.u32("goaway_permille", p.goaway_permille, 0, 1000);
    v.u32("abrupt_close_permille", p.abrupt_close_permille, 0, 1000);
    v.u32("input_after_pass_permille", p.input_after_pass_permille, 0, 1000);
    v.u32("settings_permille", p.settings_permille, 0, 1000);
    v.u32("empty_data_frames", p.empty_data_frames, 0, 100000);
  });
  v.object("rings", [&] {
    v.u32("cipher_out_records", s.rings.cipher_out_records, 0, 16);
    v.size("plaintext", s.rings.plaintext, 4096, 16 * kMiB);
    v.size("cipher_in", s.rings.cipher_in, kRecordSlot, kMiB);
  });
  v.object("tls", [&] { v.choice("handshake", s.tls.handshake, kTlsHandshakes); });
}

class Reader {
 public:
  explicit Reader(const Json& root) { frames_.push_back({&root, "", {}}); }

  const std::string& error() const { return error_; }
  void finish() { close_frame(); }

  template <class F>
  void object(const char* key, F&& body) {
    const Json* j = find(key);
    if (j == nullptr) return;
    if (!j->is_object()) return fail(key, *j, "an object");
    frames_.push_back({j, path(key), {}});
    body();
    close_frame();
  }

  void u64(const char* key, std::uint64_t* out, std::uint64_t lo, std::uint64_t hi) {
    const Json* j = find(key);
    if (j == nullptr) return;
    std::uint64_t value = 0;
    if (!number(key, *j, false, value)) return;
    if (value < lo || value > hi) return fail(key, *j, bounds(lo, hi));
    if (out != nullptr) *out = value;
  }

  void u32(const char* key, std::uint32_t& out, std::uint64_t lo, std::uint64_t hi) {
    std::uint64_t v = out;
    u64(key, &v, lo, hi);
    out = static_cast<std::uint32_t>(v);
  }

  void size(const char* key, std::uint64_t& out, std::uint64_t lo, std::uint64_t hi) {
    const Json* j = find(key);
    if (j == nullptr) return;
    std::uint64_t value = 0;
    if (!number(key, *j, true, value)) return;
    if (value < lo || value > hi) return fail(key, *j, bounds(lo, hi) + " bytes");
    out = value;
  }

  // [min, max], or one number for both.
  void range(const char* key, Range& out, std::uint64_t lo, std::uint64_t hi, bool sizes) {
    const Json* j = find(key);
    if (j == nullptr) return;
    const std::string want = "a number or [min, max] with " + bounds(lo, hi) +
                             (sizes ? " (bytes, or N with K/KiB/M/MiB)" : "") + " and min <= max";
    Range r;
    if (j->is_array()) {
      if (j->size() != 2 || !number(key, (*j)[0], sizes, r.min, want) ||
          !number(key, (*j)[1], sizes, r.max, want)) {
        if (error_.empty()) fail(key, *j, want);
        return;
      }
    } else if (number(key, *j, sizes, r.min, want)) {
      r.max = r.min;
    } else {
      return;
    }
    if (r.min < lo || r.max > hi || r.min > r.max) return fail(key, *j, want);
    out = r;
  }

  template <class E>
  void choice(const char* key, E& out, std::type_identity_t<Names<E>> names) {
    const Json* j = find(key);
    if (j == nullptr) return;
    if (j->is_string()) {
      for (const auto& [n, v] : names) {
        if (j->get<std::string>() == n) {
          out = v;
          return;
        }
      }
    }
    fail(key, *j, alternatives(names));
  }

  void strategy(const char* key, StrategySpec& out) {
    const Json* j = find(key);
    if (j == nullptr) return;
    if (!j->is_string()) return fail(key, *j, "a strategy spec string");
    const SpecParse parsed = parse_strategy(j->get<std::string>());
    if (!parsed.spec) {
      if (error_.empty()) error_ = "scenario: " + path(key) + ": " + parsed.error;  // echoed there
      return;
    }
    out = *parsed.spec;
  }

  void mutant(const char* key, Mutant& out) {
    const Json* j = find(key);
    if (j == nullptr) return;
    if (!j->is_string()) return fail(key, *j, "a mutant name, one of " + mutant_names());
    const MutantParse parsed = parse_mutant(j->get<std::string>());
    if (!parsed.mutant) return fail(key, *j, mutant_names());
    out = *parsed.mutant;
  }

 private:
  struct Frame {
    const Json* object;
    std::string path;
    std::set<std::string> known;
  };

  std::string path(const char* key) const {
    const std::string& base = frames_.back().path;
    return base.empty() ? key : base + "." + key;
  }

  const Json* find(const char* key) {
    if (!error_.empty()) return nullptr;
    Frame& f = frames_.back();
    f.known.insert(key);
    auto it = f.object->find(key);
    return it == f.object->end() ? nullptr : &*it;
  }

  bool number(const char* key, const Json& j, bool sizes, std::uint64_t& out,
              const std::string& want = {}) {
    if (j.is_number_unsigned() || (j.is_number_integer() && j.get<std::int64_t>() >= 0)) {
      out = j.get<std::uint64_t>();
      return true;
    }
    if (sizes && j.is_string()) {
      if (auto v = parse_byte_size(j.get<std::string>())) {
        out = *v;
        return true;
      }
    }
    fail(key, j,
         want.empty() ? (sizes ? "a size (bytes, or N with K/KiB/M/MiB)" : "a non-negative integer")
                      : want);
    return false;
  }

  void fail(const char* key, const Json& value, const std::string& want) {
    if (!error_.empty()) return;
    error_ = "scenario: bad value " + echo_json(value) + " for " + path(key) + ": expected " + want;
  }

  void close_frame() {
    Frame& f = frames_.back();
    if (error_.empty()) {
      for (const auto& [k, unused] : f.object->items()) {
        if (f.known.count(k) != 0) continue;
        std::string keys;
        for (const auto& known : f.known) keys += (keys.empty() ? "" : ", ") + known;
        error_ = "scenario: unknown key '" + (f.path.empty() ? k : f.path + "." + k) +
                 "'; expected one of " + keys;
        break;
      }
    }
    frames_.pop_back();
  }

  static std::string bounds(std::uint64_t lo, std::uint64_t hi) {
    return std::to_string(lo) + ".." + std::to_string(hi);
  }

  std::vector<Frame> frames_;
  std::string error_;
};

class Writer {
 public:
  OrderedJson root = OrderedJson::object();

  template <class F>
  void object(const char* key, F&& body) {
    OrderedJson* parent = current_;
    (*parent)[key] = OrderedJson::object();
    current_ = &(*parent)[key];
    body();
    current_ = parent;
  }
  void u64(const char* key, const std::uint64_t* v, std::uint64_t lo, std::uint64_t) {
    (*current_)[key] = v != nullptr ? *v : lo;
  }
  void u32(const char* key, std::uint32_t v, std::uint64_t, std::uint64_t) { (*current_)[key] = v; }
  void size(const char* key, std::uint64_t v, std::uint64_t, std::uint64_t) {
    (*current_)[key] = v;
  }
  void range(const char* key, const Range& r, std::uint64_t, std::uint64_t, bool) {
    (*current_)[key] = OrderedJson::array({r.min, r.max});
  }
  template <class E>
  void choice(const char* key, E v, std::type_identity_t<Names<E>> names) {
    (*current_)[key] = std::string(name_of(v, names));
  }
  void strategy(const char* key, const StrategySpec& spec) { (*current_)[key] = spec.name(); }
  void mutant(const char* key, Mutant m) { (*current_)[key] = std::string(to_string(m)); }

 private:
  OrderedJson* current_ = &root;
};

std::string size_bounds(std::uint64_t lo, std::uint64_t hi) {
  return byte_size_text(lo) + ".." + byte_size_text(hi);
}
std::string number_bounds(std::uint64_t lo, std::uint64_t hi) {
  return std::to_string(lo) + ".." + std::to_string(hi);
}

// Walks describe() keeping the dotted path of the field being visited.
class PathWalker {
 public:
  template <class F>
  void object(const char* key, F&& body) {
    prefix_ = path(key);
    body();
    prefix_.resize(prefix_.rfind('.') == std::string::npos ? 0 : prefix_.rfind('.'));
  }

 protected:
  std::string path(const char* key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

 private:
  std::string prefix_;
};

// Lists every field with its bounds and its value (scenario_fields).
class Schema : public PathWalker {
 public:
  std::vector<ScenarioField> fields;

  void u64(const char* key, const std::uint64_t* v, std::uint64_t lo, std::uint64_t hi) {
    add(key, number_bounds(lo, hi), std::to_string(v != nullptr ? *v : lo));
  }
  void u32(const char* key, std::uint32_t v, std::uint64_t lo, std::uint64_t hi) {
    add(key, number_bounds(lo, hi), std::to_string(v));
  }
  void size(const char* key, std::uint64_t v, std::uint64_t lo, std::uint64_t hi) {
    add(key, size_bounds(lo, hi) + " bytes", byte_size_text(v));
  }
  void range(const char* key, const Range& r, std::uint64_t lo, std::uint64_t hi, bool sizes) {
    const auto text = [&](std::uint64_t v) {
      return sizes ? byte_size_text(v) : std::to_string(v);
    };
    add(key, (sizes ? size_bounds(lo, hi) + " bytes" : number_bounds(lo, hi)),
        r.min == r.max ? text(r.min) : text(r.min) + ".." + text(r.max));
  }
  template <class E>
  void choice(const char* key, E v, std::type_identity_t<Names<E>> names) {
    add(key, alternatives(names), std::string(name_of(v, names)));
  }
  void strategy(const char* key, const StrategySpec& spec) {
    add(key, strategy_grammar(), spec.name());
  }
  void mutant(const char* key, Mutant m) { add(key, mutant_names(), std::string(to_string(m))); }

 private:
  void add(const char* key, std::string allowed, std::string value) {
    fields.push_back({path(key), std::move(allowed), std::move(value)});
  }
};

// Sets one field from a flag's text (set_field).
class Setter : public PathWalker {
 public:
  Setter(std::string_view target, std::string_view text) : target_(target), text_(text) {}
  bool found = false;
  std::string error;

  void u64(const char* key, std::uint64_t* out, std::uint64_t lo, std::uint64_t hi) {
    if (!hit(key)) return;
    if (out == nullptr) {
      error = "expected " + std::to_string(lo);
      return;
    }
    if (const auto v = whole(lo, hi, false)) *out = *v;
  }
  void u32(const char* key, std::uint32_t& out, std::uint64_t lo, std::uint64_t hi) {
    if (!hit(key)) return;
    if (const auto v = whole(lo, hi, false)) out = static_cast<std::uint32_t>(*v);
  }
  void size(const char* key, std::uint64_t& out, std::uint64_t lo, std::uint64_t hi) {
    if (!hit(key)) return;
    if (const auto v = whole(lo, hi, true)) out = *v;
  }
  void range(const char* key, Range& out, std::uint64_t lo, std::uint64_t hi, bool sizes) {
    if (!hit(key)) return;
    if (const auto v = whole(lo, hi, sizes)) out = {*v, *v};
  }
  template <class E>
  void choice(const char* key, E& out, std::type_identity_t<Names<E>> names) {
    if (!hit(key)) return;
    for (const auto& [n, v] : names) {
      if (text_ == n) {
        out = v;
        return;
      }
    }
    error = "expected " + alternatives(names);
  }
  void strategy(const char* key, StrategySpec& out) {
    if (!hit(key)) return;
    const SpecParse parsed = parse_strategy(text_);
    if (parsed.spec) {
      out = *parsed.spec;
    } else {
      error = parsed.reason;
    }
  }
  void mutant(const char* key, Mutant& out) {
    if (!hit(key)) return;
    const MutantParse parsed = parse_mutant(text_);
    if (parsed.mutant) {
      out = *parsed.mutant;
    } else {
      error = "expected one of " + mutant_names();
    }
  }

 private:
  bool hit(const char* key) {
    if (found || path(key) != target_) return false;
    found = true;
    return true;
  }
  std::optional<std::uint64_t> whole(std::uint64_t lo, std::uint64_t hi, bool sizes) {
    const std::string bounds = sizes ? size_bounds(lo, hi) : number_bounds(lo, hi);
    const auto v = sizes ? parse_byte_size(text_) : parse_decimal(text_);
    if (!v) {
      error = sizes ? "expected a size in " + bounds +
                          ": a whole decimal number of bytes, or N with K/KiB/M/MiB"
                    : "expected " + bounds + ", " + std::string(kDecimalRule);
    } else if (*v < lo || *v > hi) {
      error = "expected " + bounds;
    } else {
      return v;
    }
    return std::nullopt;
  }
  std::string_view target_;
  std::string_view text_;
};

// nlohmann's indented form puts each number of a range on its own line; ranges read better
// as [min, max].
void pretty(const OrderedJson& j, int indent, int depth, std::string& out) {
  if (!j.is_object()) {
    out += j.is_array() ? "[" + j[0].dump() + ", " + j[1].dump() + "]" : j.dump();
    return;
  }
  out += "{\n";
  std::size_t i = 0;
  for (const auto& [k, v] : j.items()) {
    out += std::string(static_cast<std::size_t>(indent * (depth + 1)), ' ') +
           OrderedJson(k).dump() + ": ";
    pretty(v, indent, depth + 1, out);
    out += ++i < j.size() ? ",\n" : "\n";
  }
  out += std::string(static_cast<std::size_t>(indent * depth), ' ') + "}";
}

bool span_fits(const Range& r) {
  return r.max - r.min < 0xFFFFFFFFULL;
}

}  // namespace

std::string_view to_string(Pacing p) {
  return name_of(p, kPacings);
}
std::string_view to_string(CompletionMode m) {
  return name_of(m, kCompletions);
}
std::string_view to_string(WindowPolicy w) {
  return name_of(w, kWindows);
}

bool Scenario::input_independent() const {
  return workload.pacing == Pacing::Lockstep && peer.window == WindowPolicy::Wide &&
         peer.ping_permille == 0 && peer.reset_permille == 0 && peer.goaway_permille == 0 &&
         peer.abrupt_close_permille == 0 && peer.settings_permille == 0 &&
         peer.empty_data_frames == 0 && workload.handler_delay_ns.max == 0 &&
         workload.kinds.streaming == 0;
}

std::uint32_t Scenario::requests_of(std::uint32_t connection) const {
  const std::uint32_t c = workload.connections;
  return workload.requests / c + (connection < workload.requests % c ? 1 : 0);
}

std::optional<ScenarioConflict> conflict(const Scenario& s) {
  const auto& w = s.workload;
  constexpr std::uint64_t kMaxRequests = 10'000'000;  // describe()'s bound of workload.requests
  constexpr std::uint64_t kMaxConnections = 10000;    // and of workload.connections
  if (w.requests < w.connections) {
    return ScenarioConflict{
        "scenario: workload.requests " + std::to_string(w.requests) +
            " is below workload.connections " + std::to_string(w.connections) +
            ": every connection needs at least one request",
        "every connection needs at least one request",
        {{"workload.requests", number_bounds(w.connections, kMaxRequests)},
         {"workload.connections",
          number_bounds(1, std::min<std::uint64_t>(w.requests, kMaxConnections))}}};
  }
  if (w.kinds.total() == 0) {
    return ScenarioConflict{"scenario: workload.kinds: at least one weight must be > 0",
                            "at least one response kind weight must be > 0",
                            {}};
  }
  const std::uint64_t per_connection = s.requests_of(0);
  if (w.body.max > 0 && per_connection > Scenario::kMaxBodiesPerConnection / w.body.max) {
    const std::uint64_t bodies = Scenario::kMaxBodiesPerConnection / w.body.max;  // >= 1
    const std::uint64_t fewest_connections = (w.requests + bodies - 1) / bodies;
    return ScenarioConflict{
        "scenario: " + std::to_string(per_connection) + " requests per connection x body " +
            std::to_string(w.body.max) + " exceeds 1 GiB of response bodies on one connection",
        std::to_string(per_connection) +
            " requests per connection x the largest body must stay within 1 GiB per connection",
        {{"workload.body", size_bounds(0, Scenario::kMaxBodiesPerConnection / per_connection)},
         {"workload.requests",
          number_bounds(w.connections, std::min(kMaxRequests, w.connections * bodies))},
         {"workload.connections", fewest_connections <= kMaxConnections
                                      ? number_bounds(fewest_connections, kMaxConnections)
                                      : std::string{}}}};
  }
  if (w.request_headers.max * (w.header_value.max + 8) > 32768) {
    return ScenarioConflict{
        "scenario: workload.request_headers x header_value may exceed 32 KiB of request "
        "headers (the server's header list limit is 64 KiB)",
        "request_headers x (header_value + 8) must stay within 32 KiB",
        {}};
  }
  for (const Range* r : {&w.body, &w.stream_chunk, &s.link.read_chunk}) {
    if (!span_fits(*r)) {
      return ScenarioConflict{"scenario: a size range spans more than 2^32 - 2 values",
                              "a size range spans at most 2^32 - 2 values",
                              {}};
    }
  }
  return std::nullopt;
}

std::string validate(const Scenario& s) {
  const auto c = conflict(s);
  return c ? c->message : std::string{};
}

std::vector<ScenarioField> scenario_fields(const Scenario& s) {
  Scenario copy = s;
  Schema schema;
  describe(copy, schema);
  return std::move(schema.fields);
}

std::string set_field(Scenario& s, std::string_view path, std::string_view text) {
  Setter setter(path, text);
  describe(s, setter);
  if (!setter.found) throw std::logic_error("set_field: no scenario field " + std::string(path));
  return setter.error;
}

ScenarioParse parse_scenario(std::string_view json_text, const Scenario& base) {
  JsonRead read = read_json(json_text, {kMaxScenarioBytes, kMaxScenarioDepth});
  if (!read.json) return {std::nullopt, "scenario: " + read.error};
  const Json& root = *read.json;
  if (!root.is_object()) return {std::nullopt, "scenario: expected a JSON object"};
  Scenario s = base;
  Reader reader(root);
  describe(s, reader);
  reader.finish();
  if (!reader.error().empty()) return {std::nullopt, reader.error()};
  if (std::string why = validate(s); !why.empty()) return {std::nullopt, why};
  return {s, {}};
}

std::string canonical_json(const Scenario& s, int indent) {
  Scenario copy = s;
  Writer writer;
  describe(copy, writer);
  if (indent < 0) return writer.root.dump();
  std::string out;
  pretty(writer.root, indent, 0, out);
  return out;
}

}  // namespace emitlab::sim
