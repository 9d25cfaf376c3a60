// emitlab_bench: Google Benchmark suites for every emit strategy, the floor, and emitlab's own
// speed. Its own main (instead of benchmark_main) because OpenSSL's allocation hooks must be
// installed before OpenSSL's first allocation, and because of the emitlab flags:
//   --emitlab_scale=full|quick|smoke   requests per iteration and the default min time
//                                      (full 0.3 s, quick 0.1 s, smoke 0: one iteration)
//   --emitlab_profile=STRATEGY,BODY,SHAPE [--emitlab_profile_iterations=N]
//                                      no benchmarks: replay that plan's timed phase N times
//                                      with callgrind collection on only inside it
//   --emitlab_progress_total=N         a progress line per finished benchmark on stderr, with
//                                      an estimate from N benchmarks in all (bench.sh)
//   --emitlab_counts=NAME              no benchmarks: NAME's timed phase for callgrind's
//                                      counts (bench/counts_mode.h, run by bench/counts.py)
// Every other flag is Google Benchmark's; an explicit --benchmark_min_time wins over the scale's.
#include <benchmark/benchmark.h>
#include <valgrind/callgrind.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bench/alloc_counts.h"
#include "bench/counts_mode.h"
#include "bench/env.h"
#include "bench/out_file.h"
#include "bench/prepared.h"
#include "bench/progress.h"
#include "bench/suites.h"
#include "core/byte_size.h"
#include "sim/openssl_mem.h"

namespace emitlab::bench {
namespace {

struct Options {
  Scale scale = Scale::Full;
  std::string profile;           // STRATEGY,BODY,SHAPE
  std::string counts;            // a benchmark name
  long long progress_total = 0;  // 0: no progress lines
  int profile_iterations = 1;
  std::vector<char*> rest;  // argv for Google Benchmark
};

std::optional<std::string_view> flag_value(std::string_view arg, std::string_view name) {
  if (arg.substr(0, name.size()) != name || arg.size() == name.size() || arg[name.size()] != '=') {
    return std::nullopt;
  }
  return arg.substr(name.size() + 1);
}

std::optional<Scale> parse_scale(std::string_view text) {
  if (text == "full") return Scale::Full;
  if (text == "quick") return Scale::Quick;
  if (text == "smoke") return Scale::Smoke;
  return std::nullopt;
}

// Takes the emitlab flags out of argv; a bad value is one line on stderr and exit status 2.
std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  o.rest.push_back(argv[0]);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (auto v = flag_value(arg, "--emitlab_scale")) {
      auto s = parse_scale(*v);
      if (!s) {
        std::fprintf(stderr, "emitlab_bench: --emitlab_scale=%.*s: use full, quick or smoke\n",
                     static_cast<int>(v->size()), v->data());
        return std::nullopt;
      }
      o.scale = *s;
    } else if (auto p = flag_value(arg, "--emitlab_profile")) {
      o.profile = std::string(*p);
    } else if (auto t = flag_value(arg, "--emitlab_progress_total")) {
      o.progress_total = std::atoll(std::string(*t).c_str());
      if (o.progress_total < 1) {
        std::fprintf(stderr, "emitlab_bench: --emitlab_progress_total must be at least 1\n");
        return std::nullopt;
      }
    } else if (auto c = flag_value(arg, "--emitlab_counts")) {
      o.counts = std::string(*c);
    } else if (auto n = flag_value(arg, "--emitlab_profile_iterations")) {
      o.profile_iterations = std::atoi(std::string(*n).c_str());
      if (o.profile_iterations < 1) {
        std::fprintf(stderr, "emitlab_bench: --emitlab_profile_iterations must be at least 1\n");
        return std::nullopt;
      }
    } else {
      o.rest.push_back(argv[i]);
    }
  }
  return o;
}

const char* default_min_time(Scale scale) {
  switch (scale) {
    case Scale::Full:
      return "--benchmark_min_time=0.3";
    case Scale::Quick:
      return "--benchmark_min_time=0.1";
    case Scale::Smoke:
      return "--benchmark_min_time=0";
  }
  return "--benchmark_min_time=0.3";
}

// STRATEGY,BODY,SHAPE, e.g. "gather+A1+A3,16K,c10m10".
int run_profile(const Options& o) {
  const auto first = o.profile.find(',');
  const auto second = first == std::string::npos ? first : o.profile.find(',', first + 1);
  if (second == std::string::npos) {
    std::fprintf(stderr, "emitlab_bench: --emitlab_profile=%s: use STRATEGY,BODY,SHAPE\n",
                 o.profile.c_str());
    return 2;
  }
  const std::string strategy = o.profile.substr(0, first);
  const auto body = parse_byte_size(o.profile.substr(first + 1, second - first - 1));
  const auto shape = find_shape(o.profile.substr(second + 1));
  if (!body || !shape) {
    std::fprintf(stderr,
                 "emitlab_bench: --emitlab_profile=%s: BODY is bytes or N[K|M], SHAPE is "
                 "c1m1, c10m10, c100m32, c1024m32 or c1024m1\n",
                 o.profile.c_str());
    return 2;
  }
  Plan plan;
  try {
    plan = make_plan(strategy, *shape, *body, o.scale);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "emitlab_bench: %s\n", e.what());
    return 2;
  }
  return replay_timed_phases(plan, o.profile_iterations, [](bool) { CALLGRIND_TOGGLE_COLLECT; });
}

int run_benchmarks(Options& o) {
  std::vector<char*> args{o.rest.front(), const_cast<char*>(default_min_time(o.scale))};
  args.insert(args.end(), o.rest.begin() + 1, o.rest.end());
  int argc = static_cast<int>(args.size());
  benchmark::Initialize(&argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(argc, args.data())) return 2;
  register_floor(o.scale);
  register_emit(o.scale);
  register_self(o.scale);
  register_world(o.scale);
  register_props(o.scale);
  benchmark::AddCustomContext("emitlab_scale", to_string(o.scale));
  benchmark::AddCustomContext("openssl_alloc_hooks",
                              std::string(sim::to_string(sim::openssl_mem_hooks())));
  TimedPhaseMemoryManager memory;
  benchmark::RegisterMemoryManager(&memory);
  std::unique_ptr<ProgressReporter> progress;
  if (o.progress_total > 0) {
    progress = std::make_unique<ProgressReporter>(static_cast<std::uint64_t>(o.progress_total));
  }
  // A JSON --benchmark_out (what bench.sh writes) goes through the checked reporter; other
  // formats are Google Benchmark's own, unchecked.
  const OutFlag out = out_flag(o.rest);
  if (!out.path.empty() && out.json) {
    CheckedJsonReporter file(out.path);
    stop_after_benchmark_on_signals();
    benchmark::RunSpecifiedBenchmarks(progress.get(), &file);
  } else {
    benchmark::RunSpecifiedBenchmarks(progress.get());
  }
  benchmark::RegisterMemoryManager(nullptr);
  benchmark::Shutdown();
  return 0;
}

}  // namespace
}  // namespace emitlab::bench

int main(int argc, char** argv) {
  using namespace emitlab::bench;
  // Before anything else touches OpenSSL: it accepts the hooks only before its first allocation.
  const auto hooks = emitlab::sim::install_openssl_mem_hooks();
  if (hooks != emitlab::sim::OpenSslHooks::Installed) {
    std::fprintf(stderr, "emitlab_bench: OpenSSL memory hooks %s: OpenSSL allocations read 0\n",
                 std::string(emitlab::sim::to_string(hooks)).c_str());
  }
  auto options = parse_options(argc, argv);
  if (!options) return 2;
  auto environment = std::make_unique<Env>();
  set_env(environment.get());
  const int status = !options->counts.empty()    ? run_counts(options->counts, options->scale)
                     : !options->profile.empty() ? run_profile(*options)
                                                 : run_benchmarks(*options);
  clear_prepared();
  set_env(nullptr);
  return status;
}
