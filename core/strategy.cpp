#include "core/strategy.h"

#include "core/byte_size.h"
#include <utility>

namespace emitlab {
namespace {

constexpr std::string_view kGrammar =
    "expected BASE[+A1][+A2][+A3][@cap=SIZE][@threshold=SIZE] with BASE drain|gather|hybrid";

SpecParse failure(std::string_view text, std::string_view part, std::string_view why) {
  return {std::nullopt, "bad strategy '" + std::string(text) + "': " + std::string(why) + " '" +
                            std::string(part) + "'; " + std::string(kGrammar)};
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
    case StrategyBase::Drain: return "drain";
    case StrategyBase::Gather: return "gather";
    case StrategyBase::Hybrid: return "hybrid";
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
  std::size_t pos = stop;
  while (pos != std::string_view::npos && pos < text.size()) {
    const char kind = text[pos];
    const std::size_t next = text.find_first_of("+@", pos + 1);
    const std::string_view part = text.substr(pos + 1, next == std::string_view::npos
                                                           ? std::string_view::npos
                                                           : next - pos - 1);
    if (kind == '+') {
      if (!apply_option(spec, part)) return failure(text, part, "unknown or repeated option");
    } else {
      const std::size_t eq = part.find('=');
      const std::string_view key = part.substr(0, eq);
      const auto value =
          eq == std::string_view::npos ? std::nullopt : parse_byte_size(part.substr(eq + 1));
      if (!value) return failure(text, part, "bad parameter (SIZE is bytes or N with K/KiB)");
      if (key == "cap") {
        spec.cap = *value;
      } else if (key == "threshold") {
        spec.threshold = *value;
      } else {
        return failure(text, part, "unknown parameter");
      }
    }
    pos = next;
  }
  std::string why;
  if (!strategy_implemented(spec, &why)) return failure(text, text, why);
  return {spec, {}};
}

bool strategy_implemented(const StrategySpec& spec, std::string* why) {
  const bool options = spec.reuse_scratch || spec.fast_path || spec.release_at_close;
  const bool params = spec.cap != StrategySpec::kDefaultCap ||
                      spec.threshold != StrategySpec::kDefaultThreshold;
  if (spec.base == StrategyBase::Drain && (options || params)) {
    *why = "drain takes no options or parameters";
    return false;
  }
  if (spec.base == StrategyBase::Hybrid || options || params) {
    *why = "not implemented in this build (drain and gather are)";
    return false;
  }
  return true;
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
