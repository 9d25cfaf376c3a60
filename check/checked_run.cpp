#include "check/checked_run.h"

#include <algorithm>
#include <cstdio>

#include "sim/counting_allocator.h"
#include "sim/openssl_mem.h"
#include "sim/replay.h"

namespace emitlab::check {
namespace {

std::string str(std::uint64_t v) {
  return std::to_string(v);
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string label_of(const sim::Scenario& s, const std::string& emitter) {
  return emitter.empty() ? s.strategy.name() : emitter + "(" + s.strategy.name() + ")";
}

void fail_with(Verdict& v, std::size_t run, std::string rule, std::string detail) {
  v.finding = Finding{std::move(rule), std::move(detail)};
  v.failing_run = run;
}

std::string first_app_difference(const CheckedRun& a, const CheckedRun& b) {
  const auto& x = a.result.app;
  const auto& y = b.result.app;
  const auto n = std::min(x.size(), y.size());
  std::size_t i = 0;
  while (i < n && x[i] == y[i]) ++i;
  return "first difference at byte " + str(i) + " of the application streams (" + a.label + ": " +
         str(x.size()) + " bytes, " + b.label + ": " + str(y.size()) + " bytes)";
}

// What a pass did that A1, A2 and A3 must not change: the fields core/pass_record.h marks
// kPassShape (allocations, copies, reference counts, the fast-path flag and A3's stream counts
// may differ).
bool same_shape(const PassRecord& a, const PassRecord& b) {
  bool same = true;
#define EMITLAB_SAME_SHAPE(type, name, roles) \
  if constexpr (((roles)&kPassShape) != 0) same = same && a.name == b.name;
  EMITLAB_PASS_RECORD_FIELDS(EMITLAB_SAME_SHAPE)
#undef EMITLAB_SAME_SHAPE
  return same;
}

std::optional<std::string> pass_difference(const CheckedRun& a, const CheckedRun& b) {
  for (std::size_t c = 0; c < a.result.connections.size(); ++c) {
    const auto& pa = a.result.connections[c].passes;
    const auto& pb = b.result.connections[c].passes;
    for (std::size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
      if (same_shape(pa[i], pb[i])) continue;
      return "connection " + str(c) + ", pass " + str(i + 1) + ": " + str(pa[i].bytes) +
             " bytes, " + str(pa[i].ssl_writes) + " SSL_writes vs " + str(pb[i].bytes) +
             " bytes, " + str(pb[i].ssl_writes) + " SSL_writes";
    }
    if (pa.size() != pb.size()) {
      return "connection " + str(c) + ": " + str(pa.size()) + " passes vs " + str(pb.size());
    }
  }
  return std::nullopt;
}

// Which promised equality broke between two runs of one schedule (nullopt: none).
std::optional<Finding> wire_difference(const CheckedRun& base, const CheckedRun& other) {
  const std::string pair = base.label + " and " + other.label + " (same SSL_write calls promised)";
  const auto& a = base.result;
  const auto& b = other.result;
  if (a.choices.count != b.choices.count || a.choices.digest != b.choices.digest) {
    return Finding{"choices_equal", pair + ": " + str(a.choices.count) + " vs " +
                                        str(b.choices.count) + " choices, other answers"};
  }
  if (base.writes != other.writes) {
    return Finding{"writes_equal", pair + ": different write submissions"};
  }
  if (auto d = pass_difference(base, other)) return Finding{"passes_equal", pair + ": " + *d};
  for (std::size_t c = 0; c < a.connections.size(); ++c) {
    if (a.connections[c].wire_digest != b.connections[c].wire_digest) {
      return Finding{"wire_equal", pair + ": connection " + str(c) + " ciphertext differs"};
    }
    if (a.connections[c].app_digest != b.connections[c].app_digest) {
      return Finding{"app_stream_equal",
                     pair + ": connection " + str(c) + " application stream differs"};
    }
  }
  return std::nullopt;
}

}  // namespace

std::string CheckedRun::hashes() const {
  return label + " app_sha256=" + result.app_sha256() + " wire_sha256=" + result.wire_sha256() +
         " choices=" + str(result.choices.count) + ":" + hex64(result.choices.digest);
}

Verdict verdict_of(std::vector<CheckedRun> runs) {
  Verdict v;
  v.runs = std::move(runs);
  for (std::size_t i = 0; i < v.runs.size(); ++i) {
    if (v.runs[i].finding) {
      v.finding = v.runs[i].finding;
      v.failing_run = i;
      break;
    }
  }
  return v;
}

CheckedRun run_checked(const sim::Scenario& scenario, const CheckOptions& how) {
  sim::CountingAllocator counting;
  StepChecker steps(scenario);
  sim::RunOptions options;
  options.counting = &counting;
  options.observers.push_back(&steps);
  options.observers.insert(options.observers.end(), how.observers.begin(), how.observers.end());
  options.max_events = event_bound(scenario);
  options.choices = how.choices;
  options.tls = how.tls;
  options.keep_bytes = how.keep_bytes;
  options.keep_bodies = how.keep_bodies;
  if (!how.emitter.empty()) options.emitter_factory = how.factory;
  if (how.watch_steps) how.watch_steps(steps);
  CheckedRun out;
  out.label = label_of(scenario, how.emitter);
  // OpenSSL's per-thread state would otherwise be charged to this run, or outlive it.
  sim::release_openssl_thread_state();
  out.result = sim::run_world(scenario, options);
  sim::release_openssl_thread_state();
  out.finding = check_run(out.result, counting, steps.first());
  for (std::uint32_t c = 0; c < scenario.workload.connections; ++c) {
    out.writes.push_back(steps.writes(c));
  }
  out.alloc = alloc_report(out.result, counting);
  if (how.token) out.token = sim::encode(sim::token_of(out.result));
  return out;
}

Verdict check_app_stream(const sim::Scenario& scenario, const CheckOptions& options) {
  sim::Scenario reference = scenario;
  reference.strategy = StrategySpec{};  // drain
  CheckOptions core = options;
  core.emitter.clear();
  std::vector<CheckedRun> runs;
  runs.push_back(run_checked(reference, core));
  runs.push_back(run_checked(scenario, options));
  Verdict v = verdict_of(std::move(runs));
  if (v.finding) return v;
  if (!scenario.input_independent() ||
      !promise_between(reference.strategy, scenario.strategy, true).same_app_stream) {
    fail_with(v, 1, "promise_declared",
              "core does not promise drain's application stream to " + v.runs[1].label +
                  " on this scenario");
    return v;
  }
  const auto& a = v.runs[0].result.connections;
  const auto& b = v.runs[1].result.connections;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].app_digest == b[i].app_digest) continue;
    fail_with(v, 1, "app_stream_equal",
              "connection " + str(i) + ": " + first_app_difference(v.runs[0], v.runs[1]));
    return v;
  }
  return v;
}

Verdict check_ciphertext(const sim::Scenario& scenario, const CheckOptions& options) {
  std::vector<sim::Scenario> variants(1, scenario);
  variants.front().strategy = without_options(scenario.strategy);
  for (const StrategySpec& s : {scenario.strategy, with_all_options(scenario.strategy)}) {
    const bool seen = std::any_of(variants.begin(), variants.end(),
                                  [&](const sim::Scenario& v) { return v.strategy == s; });
    if (!seen) variants.push_back(scenario), variants.back().strategy = s;
  }
  CheckOptions core = options;
  core.emitter.clear();
  std::vector<CheckedRun> runs;
  for (const auto& s : variants) {
    // The test emitter (if any) runs the generated strategy only; its relatives are core's.
    runs.push_back(run_checked(s, s.strategy == scenario.strategy ? options : core));
  }
  Verdict v = verdict_of(std::move(runs));
  for (std::size_t i = 1; i < v.runs.size() && !v.finding; ++i) {
    if (!promise_between(variants[0].strategy, variants[i].strategy, false).same_wire) {
      fail_with(
          v, i, "promise_declared",
          "core does not promise " + v.runs[0].label + "'s SSL_write calls to " + v.runs[i].label);
    } else if (auto f = wire_difference(v.runs[0], v.runs[i])) {
      v.finding = f;
      v.failing_run = i;
    }
  }
  return v;
}

}  // namespace emitlab::check
