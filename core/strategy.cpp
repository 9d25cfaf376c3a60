#include "core/strategy.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <utility>

#include "core/byte_size.h"
#include "core/echo.h"
#include "core/wire_limits.h"

namespace emitlab {
namespace {

SpecParse failure(std::string_view text, std::string_view part, std::string_view why) {
  std::string reason = std::string(why) + " " + echo(part) + "; expected " + strategy_grammar() +
                       " with BASE drain|gather|hybrid";
  return {std::nullopt, "bad strategy " + echo(text) + ": " + reason, reason};
}

bool apply_option(StrategySpec& spec, std::string_view option) {
  for (const auto& o : kTrackAOptions) {
    if (option == o.name) return !std::exchange(spec.*o.member, true);
  }
  return false;
}

const StrategyParameter* find_parameter(std::string_view name) {
  for (const auto& p : kStrategyParameters) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

bool any_option(const StrategySpec& spec) {
  for (const auto& o : kTrackAOptions) {
    if (spec.*o.member) return true;
  }
  return false;
}

StrategySpec with_options(StrategySpec spec, bool on) {
  for (const auto& o : kTrackAOptions) spec.*o.member = on;
  return spec;
}

}  // namespace

std::string_view to_string(StrategyBase base) {
  switch (base) {
    case StrategyBase::Drain:
      return "drain";
    case StrategyBase::Gather:
      return "gather";
    case StrategyBase::Hybrid:
      return "hybrid";
  }
  return "?";
}

std::string StrategySpec::name() const {
  std::string out(to_string(base));
  for (const auto& o : kTrackAOptions) {
    if (this->*o.member) out += "+" + std::string(o.name);
  }
  for (const auto& p : kStrategyParameters) {
    const std::size_t v = this->*p.member;
    if (v != p.default_value) out += "@" + std::string(p.name) + "=" + byte_size_text(v);
  }
  return out;
}

StrategySpec without_options(StrategySpec spec) {
  return with_options(spec, false);
}

StrategySpec with_all_options(StrategySpec spec) {
  return with_options(spec, true);
}

const std::string& strategy_grammar() {
  static const std::string kGrammar = [] {
    std::string g = "BASE";
    for (const auto& o : kTrackAOptions) g += "[+" + std::string(o.name) + "]";
    for (const auto& p : kStrategyParameters) g += "[@" + std::string(p.name) + "=SIZE]";
    return g;
  }();
  return kGrammar;
}

SpecParse parse_strategy(std::string_view text) {
  const std::size_t stop = text.find_first_of("+@");
  const std::string_view base = text.substr(0, stop);
  StrategySpec spec;
  if (base == "drain") {
    spec.base = StrategyBase::Drain;
  } else if (base == "gather") {
    spec.base = StrategyBase::Gather;
  } else if (base == "hybrid") {
    spec.base = StrategyBase::Hybrid;
  } else {
    return failure(text, base, "unknown base");
  }
  // Whether a parameter was written, not whether it differs from its default: drain@cap=16K
  // and gather@threshold=2K are as wrong as any other value there.
  std::array<bool, std::size(kStrategyParameters)> given{};
  std::size_t pos = stop;
  while (pos != std::string_view::npos && pos < text.size()) {
    const char kind = text[pos];
    const std::size_t next = text.find_first_of("+@", pos + 1);
    const std::string_view part = text.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    if (spec.base == StrategyBase::Drain) {
      return failure(text, part, "drain takes no options or parameters, found");
    }
    if (kind == '+') {
      if (!apply_option(spec, part)) return failure(text, part, "unknown or repeated option");
    } else {
      const std::size_t eq = part.find('=');
      const StrategyParameter* p = find_parameter(part.substr(0, eq));
      const auto value =
          eq == std::string_view::npos ? std::nullopt : parse_byte_size(part.substr(eq + 1));
      if (p == nullptr) return failure(text, part, "unknown parameter");
      if (p->hybrid_only && spec.base != StrategyBase::Hybrid) {
        return failure(text, part, "@" + std::string(p->name) + " applies to hybrid only, found");
      }
      if (std::exchange(given[static_cast<std::size_t>(p - kStrategyParameters)], true)) {
        return failure(text, part, "repeated parameter");
      }
      if (!value) {
        return failure(text, part,
                       "bad parameter (SIZE is a whole decimal number of bytes, or N "
                       "with K/KiB/M/MiB)");
      }
      spec.*p->member = *value;
    }
    pos = next;
  }
  std::string why;
  if (!strategy_valid(spec, &why)) return failure(text, text, why + ", found");
  return {spec, {}, {}};
}

bool strategy_valid(const StrategySpec& spec, std::string* why) {
  bool parameters_set = false;
  for (const auto& p : kStrategyParameters) {
    const bool set = spec.*p.member != p.default_value;
    parameters_set |= set;
    if (set && p.hybrid_only && spec.base != StrategyBase::Hybrid &&
        spec.base != StrategyBase::Drain) {
      *why = "@" + std::string(p.name) + " applies to hybrid only";
      return false;
    }
  }
  if (spec.base == StrategyBase::Drain && (any_option(spec) || parameters_set)) {
    *why = "drain takes no options or parameters";
    return false;
  }
  if (spec.cap < StrategySpec::kMinCap || spec.cap > StrategySpec::kMaxCap) {
    *why = "@cap must be from 4K to 256K";
    return false;
  }
  return true;
}

std::size_t min_plaintext_ring(const StrategySpec& spec, std::size_t cipher_out_bytes) {
  // A drain pass writes only while the ring guarantees its whole buffer.
  const std::size_t drain_need = spec.base == StrategyBase::Gather ? 0 : kDrainBuffer;
  if (spec.base == StrategyBase::Drain) return drain_need;
  const std::size_t worst_pass = gather_worst_pass(spec.cap);
  const std::size_t absorbed = (cipher_out_bytes / kMaxRecordWire) * kMaxRecordPlaintext;
  return std::max(drain_need, worst_pass > absorbed ? worst_pass - absorbed : 0);
}

const std::vector<CatalogEntry>& strategy_catalog() {
  static const std::vector<CatalogEntry> kCatalog = [] {
    std::vector<CatalogEntry> c = {
        {"drain", "base",
         "mem_send into a 16649-byte buffer, BIO_write into the plaintext ring while it "
         "guarantees a whole buffer, then the TLS drain; zero emitter allocations"},
        {"gather", "base",
         "session_send with send callbacks; frames and NO_COPY body slices gathered per pass, "
         "byte cap checked before each append, copied into a 16 KiB (or heap) stage, one "
         "SSL_write_ex loop; skips the pass while a write is in flight (upstream 597a474 + #29)"},
        {"hybrid", "base",
         "drain while no stream above the threshold (or streaming) is open, gather otherwise; "
         "pinned to drain while drain's slice is parked, to gather while gather's deferred "
         "NO_COPY frame is pending"},
    };
    for (const auto& o : kTrackAOptions) {
      c.push_back({std::string(o.name), "option", std::string(o.what)});
    }
    for (const auto& p : kStrategyParameters) {
      c.push_back({std::string(p.name), "parameter", std::string(p.what)});
    }
    return c;
  }();
  return kCatalog;
}

Promise promise_between(const StrategySpec& a, const StrategySpec& b, bool input_independent) {
  Promise p;
  p.same_app_stream = input_independent || a == b;
  // A1, A2 and A3 change no SSL_write call: strategies that differ only in them write alike.
  p.same_wire = without_options(a) == without_options(b);
  return p;
}

}  // namespace emitlab
