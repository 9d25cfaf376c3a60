#include "bench/counts_mode.h"

#include <valgrind/callgrind.h>

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "bench/alloc_counts.h"
#include "bench/env.h"
#include "bench/floor_tls.h"
#include "bench/prepared.h"

namespace emitlab::bench {
namespace {

struct Target {
  bool floor = false;
  Plan plan;  // the floor's plan is drain's of the same shape and body
};

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

std::optional<Target> parse_target(std::string_view name, Scale scale) {
  const auto parts = split(name);
  const bool floor = parts.size() == 3 && parts[0] == "floor";
  if (!floor && !(parts.size() == 4 && parts[0] == "emit")) return std::nullopt;
  const std::string strategy = floor ? "drain" : std::string(parts[1]);
  const auto shape = find_shape(parts[parts.size() - 2]);
  if (!shape) return std::nullopt;
  const auto body = find_body(*shape, parts.back());
  if (!body) return std::nullopt;
  try {
    // Named by its canonical spec: gather@cap=16K runs as "gather" does, in every allocation,
    // so that the control reads exactly 1.000 (see bench/counts.py on padding the name).
    const std::string canonical = make_plan(strategy, *shape, *body, scale).spec.name();
    return Target{floor, make_plan(canonical, *shape, *body, scale)};
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

// Two fleets, both handshaken before any instrumentation (1024 instrumented handshakes would
// cost more than the phase itself); the first replay warms the code, the second is collected.
int count_emit(const Plan& plan, const Prepared& p) {
  BenchAllocator warm_port;
  BenchAllocator port;
  std::string error;
  auto warm = replay_handshakes(plan, p.recording, warm_port, false, &error);
  auto fleet = warm ? replay_handshakes(plan, p.recording, port, false, &error) : nullptr;
  if (!fleet) {
    std::fprintf(stderr, "%s: %s\n", plan.name().c_str(), error.c_str());
    return 1;
  }
  CALLGRIND_START_INSTRUMENTATION;
  const bool warmed = warm->replay(p.recording, p.recording.requests);
  CALLGRIND_TOGGLE_COLLECT;
  const bool ok = warmed && fleet->replay(p.recording, p.recording.requests);
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_STOP_INSTRUMENTATION;
  if (!ok) {
    std::fprintf(stderr, "%s: %s\n", plan.name().c_str(),
                 (warmed ? fleet->error() : warm->error()).c_str());
    return 1;
  }
  if (auto d = first_difference(fleet->figures(), p.figures); !d.empty()) {
    std::fprintf(stderr, "%s: counted replay differs from the verified run: %s\n",
                 plan.name().c_str(), d.c_str());
    return 1;
  }
  return 0;
}

int count_floor(const Prepared& drain) {
  const std::string name = "floor/" + drain.plan.shape_body();
  FloorTls tls(env().server_tls().server_ctx(), env().client_tls().client_ctx());
  if (!tls.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), tls.error().c_str());
    return 1;
  }
  bool ok = true;
  CALLGRIND_START_INSTRUMENTATION;
  for (std::uint64_t bytes : drain.app_bytes) ok = tls.encrypt(bytes) != 0 && ok;
  CALLGRIND_TOGGLE_COLLECT;
  for (std::uint64_t bytes : drain.app_bytes) ok = tls.encrypt(bytes) != 0 && ok;
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_STOP_INSTRUMENTATION;
  if (!ok) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), tls.error().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int run_counts(const std::string& padded, Scale scale) {
  // Trailing spaces pad every name to one length (bench/counts.py), so that the process's heap
  // and stack are laid out alike whatever the name: the counts depend on the layout.
  std::string_view name(padded);
  name = name.substr(0, name.find_last_not_of(' ') + 1);
  const auto target = parse_target(name, scale);
  if (!target) {
    std::fprintf(stderr,
                 "emitlab_bench: --emitlab_counts=%s: use emit/STRATEGY/SHAPE/BODY or "
                 "floor/SHAPE/BODY, as --benchmark_list_tests names them\n",
                 std::string(name).c_str());
    return 2;
  }
  const Prepared& p = prepare(target->plan);
  if (!p.error.empty()) {
    std::fprintf(stderr, "%s: %s\n", target->plan.name().c_str(), p.error.c_str());
    return 1;
  }
  const int status = target->floor ? count_floor(p) : count_emit(target->plan, p);
  if (status != 0) return status;
  std::printf("{\"name\": \"%.*s\", \"responses\": %llu, \"requests_per_connection\": %u}\n",
              static_cast<int>(name.size()), name.data(),
              static_cast<unsigned long long>(target->plan.responses()),
              target->plan.requests_per_connection);
  return 0;
}

}  // namespace emitlab::bench
