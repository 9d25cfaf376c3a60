#include "core/strategy.h"

#include <algorithm>

#include <utility>

#include "core/byte_size.h"
#include "core/echo.h"
#include "core/wire_limits.h"

namespace emitlab {
namespace {

constexpr std::string_view kGrammar = kStrategyGrammar;

SpecParse failure(std::string_view text, std::string_view part, std::string_view why) {
  std::string reason = std::string(why) + " " + echo(part) + "; " + std::string(kGrammar);
  return {std::nullopt, "bad strategy " + echo(text) + ": " + reason, reason};
}

bool apply_option(StrategySpec& spec, std::string_view option) {
  if (option == "A1") return !std::exchange(spec.reuse_scratch, true);
  if (option == "A2") return !std::exchange(spec.fast_path, true);
  if (option == "A3") return !std::exchange(spec.release_at_close, true);
  return false;
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
  if (reuse_scratch) out += "+A1";
  if (fast_path) out += "+A2";
  if (release_at_close) out += "+A3";
  if (cap != kDefaultCap) out += "@cap=" + byte_size_text(cap);
  if (threshold != kDefaultThreshold) out += "@threshold=" + byte_size_text(threshold);
  return out;
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
  bool cap_given = false;
  bool threshold_given = false;
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
      const std::string_view key = part.substr(0, eq);
      const auto value =
          eq == std::string_view::npos ? std::nullopt : parse_byte_size(part.substr(eq + 1));
      if (key == "cap") {
        if (std::exchange(cap_given, true)) return failure(text, part, "repeated parameter");
      } else if (key == "threshold") {
        if (spec.base != StrategyBase::Hybrid) {
          return failure(text, part, "@threshold applies to hybrid only, found");
        }
        if (std::exchange(threshold_given, true)) {
          return failure(text, part, "repeated parameter");
        }
      } else {
        return failure(text, part, "unknown parameter");
      }
      if (!value) {
        return failure(text, part,
                       "bad parameter (SIZE is a whole decimal number of bytes, or N "
                       "with K/KiB/M/MiB)");
      }
      (key == "cap" ? spec.cap : spec.threshold) = *value;
    }
    pos = next;
  }
  std::string why;
  if (!strategy_valid(spec, &why)) return failure(text, text, why + ", found");
  return {spec, {}, {}};
}

bool strategy_valid(const StrategySpec& spec, std::string* why) {
  const bool options = spec.reuse_scratch || spec.fast_path || spec.release_at_close;
  const bool cap_set = spec.cap != StrategySpec::kDefaultCap;
  const bool threshold_set = spec.threshold != StrategySpec::kDefaultThreshold;
  if (spec.base == StrategyBase::Drain && (options || cap_set || threshold_set)) {
    *why = "drain takes no options or parameters";
    return false;
  }
  if (threshold_set && spec.base != StrategyBase::Hybrid) {
    *why = "@threshold applies to hybrid only";
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
  static const std::vector<CatalogEntry> kCatalog = {
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
      {"A1", "option",
       "reuse the gather list, reference list, heap emit buffer and heap stage across passes "
       "(bounded: 4096 entries, 2048 references, 278537 bytes each buffer; freed at close)"},
      {"A2", "option",
       "a pass that is one contiguous entry is written straight from it, without the stage"},
      {"A3", "option",
       "one reference per stream, taken at its first DATA slice and released after the flush "
       "of the pass in which the stream closes (queued, never inside session_send)"},
      {"cap", "parameter",
       "@cap=SIZE, 4K..256K, default 16K: gather's byte cap; the plaintext ring grows to hold "
       "the worst-case parked tail (cap - 1 + 16393 minus what the cipher-out ring absorbs)"},
      {"threshold", "parameter",
       "@threshold=SIZE, default 2K, hybrid only: bodies above it latch the connection to "
       "gather while their stream is open"},
  };
  return kCatalog;
}

Promise promise_between(const StrategySpec& a, const StrategySpec& b, bool input_independent) {
  Promise p;
  p.same_app_stream = input_independent || a == b;
  // A1, A2 and A3 change no SSL_write call: strategies that differ only in them write alike.
  StrategySpec a_core = a;
  StrategySpec b_core = b;
  for (StrategySpec* s : {&a_core, &b_core}) {
    s->reuse_scratch = s->fast_path = s->release_at_close = false;
  }
  p.same_wire = a_core == b_core;
  return p;
}

}  // namespace emitlab
