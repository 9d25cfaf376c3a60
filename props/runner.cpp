#include "props/runner.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/mutant.h"
#include "sim/replay.h"

#ifdef EMITLAB_SANITIZE
#include <sanitizer/common_interface_defs.h>
#endif

#ifndef EMITLAB_CLI
#define EMITLAB_CLI "emitlab"
#endif

// RapidCheck's default listener (verbose progress and shrinking, the at-exit reproduce hint):
// defined in librapidcheck, declared in a header the package does not install.
namespace rc::detail {
TestListener& globalTestListener();
}

namespace emitlab::props {
namespace {

namespace rcd = rc::detail;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kTokenPrefix = "emitlabprop1.";
constexpr std::uint64_t kDefaultSeed = 20240521;  // CI runs are deterministic unless told otherwise
#ifdef EMITLAB_SANITIZE
// AddressSanitizer + UBSan builds (Debug) run 10-14 times slower: a tenth of the cases keeps
// `ctest -L props` there near 40 s. The release build runs the whole default budget.
constexpr double kBuildShare = 0.1;
#else
constexpr double kBuildShare = 1.0;
#endif

std::map<std::string, PropertyDef, std::less<>>& properties() {
  static std::map<std::string, PropertyDef, std::less<>> registry;
  return registry;
}

std::map<std::string, EmitterFactory, std::less<>>& emitters() {
  static std::map<std::string, EmitterFactory, std::less<>> registry;
  return registry;
}

std::string self_path() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("props-binary") : p.string();
}

// ---------------------------------------------------------------------------------------------
// The budget: RC_PARAMS first (as RapidCheck documents), then EMITLAB_PROPS_SCALE and
// EMITLAB_PROPS_SEED, then the defaults.

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

// Whether RC_PARAMS sets a key: read it over two different defaults and compare.
template <class Field>
bool rc_params_set(Field field) {
  const char* text = env("RC_PARAMS");
  if (text == nullptr) return false;
  rcd::Configuration a, b;
  field(a) = 1;
  field(b) = 2;
  rcd::Configuration read_a = rcd::configFromString(text, a);
  rcd::Configuration read_b = rcd::configFromString(text, b);
  return field(read_a) == field(read_b);
}

double scale() {
  const char* text = env("EMITLAB_PROPS_SCALE");
  if (text == nullptr) return 1.0;
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  return (end != nullptr && *end == '\0' && v > 0 && std::isfinite(v)) ? v : -1.0;
}

std::optional<std::uint64_t> seed_setting(bool* random) {
  const char* text = env("EMITLAB_PROPS_SEED");
  *random = text != nullptr && std::string_view(text) == "random";
  if (text == nullptr || *random) return std::nullopt;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return v;
}

// ---------------------------------------------------------------------------------------------
// The suite against a mutant of the bug zoo (EMITLAB_PROPS_MUTANT=NAME, core/mutant.h): every
// case of every property arms NAME, shrinking is off (the question is after how many cases a
// property catches it, not its smallest case), and each property run appends one JSON line to
// EMITLAB_PROPS_RESULTS (to stdout when unset):
//   {"mutant":NAME,"property":P,"caught":B,"cases":N,"budget":M,"rule":R|null,"seconds":S,
//    "seed":S}
// `cases` counts the cases run, the catching one included (the whole budget when not caught).

std::optional<Mutant> armed_mutant() {
  const char* text = env("EMITLAB_PROPS_MUTANT");
  if (text == nullptr) return std::nullopt;
  return parse_mutant(text).mutant;  // props_main refused a bad name before any test ran
}

void write_mutant_result(const PropertyDef& def, Mutant m, const rcd::TestParams& params, int cases,
                         double seconds, const std::optional<Finding>& caught) {
  const nlohmann::ordered_json line{
      {"mutant", std::string(to_string(m))},
      {"property", def.name},
      {"caught", caught.has_value()},
      {"cases", cases},
      {"budget", params.maxSuccess},
      {"rule", caught ? nlohmann::ordered_json(caught->rule) : nlohmann::ordered_json()},
      {"seconds", std::round(seconds * 1000) / 1000},
      {"seed", params.seed}};
  const char* path = env("EMITLAB_PROPS_RESULTS");
  if (path == nullptr) {
    std::cout << line.dump() << std::endl;
    return;
  }
  std::ofstream out(path, std::ios::app);
  out << line.dump() << '\n';
  if (!out.flush()) BOOST_FAIL("EMITLAB_PROPS_RESULTS '" << path << "' cannot be written");
}

rcd::TestParams budget(const PropertyDef& def) {
  rcd::TestParams p = rcd::configuration().testParams;
  if (!rc_params_set([](rcd::Configuration& c) -> int& { return c.testParams.maxSuccess; })) {
    p.maxSuccess =
        std::max(1, static_cast<int>(std::lround(def.base_cases * scale() * kBuildShare)));
  }
  if (!rc_params_set([](rcd::Configuration& c) -> std::uint64_t& { return c.testParams.seed; })) {
    bool random = false;
    const auto chosen = seed_setting(&random);
    if (!random) p.seed = chosen.value_or(kDefaultSeed);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// The campaign: progress lines while it runs, cases per second when it ends.

struct CampaignResult {
  std::string name;
  std::uint64_t seed = 0;
  int cases = 0;
  int discarded = 0;
  int shrinks = 0;
  double seconds = 0;
  bool failed = false;
  std::map<std::string, AllocReport> alloc;  // per strategy base
};

std::vector<CampaignResult>& campaign_results() {
  static std::vector<CampaignResult> results;
  return results;
}

class Progress final : public rcd::TestListener {
 public:
  Progress(const PropertyDef& def, const rcd::TestParams& params)
      : planned_(params.maxSuccess), start_(Clock::now()) {
    result_.name = def.name;
    result_.seed = params.seed;
    std::cerr << "[props] " << def.name << ": " << planned_ << " cases, seed " << params.seed
              << "\n";
  }

  void onTestCaseFinished(const rcd::CaseDescription& d) override {
    rcd::globalTestListener().onTestCaseFinished(d);
    if (d.result.type == rcd::CaseResult::Type::Discard) ++result_.discarded;
    if (d.result.type != rcd::CaseResult::Type::Success) return;
    ++result_.cases;
    const int step = std::max(1, planned_ / 10);
    if (result_.cases % step == 0 || result_.cases == planned_) line("cases");
  }
  void onShrinkTried(const rcd::CaseDescription& d, bool accepted) override {
    rcd::globalTestListener().onShrinkTried(d, accepted);
    ++result_.shrinks;
    accepted_ += accepted ? 1 : 0;
    if (result_.shrinks % 50 == 0) line("shrinking");
  }
  void onTestFinished(const rcd::TestMetadata& m, const rcd::TestResult& r) override {
    rcd::globalTestListener().onTestFinished(m, r);
  }
  void add(const Verdict& v) {
    for (const auto& run : v.runs) {
      result_.alloc[std::string(to_string(run.result.scenario.strategy.base))].add(run.alloc);
    }
  }
  CampaignResult finish(bool failed) {
    result_.seconds = elapsed();
    result_.failed = failed;
    return result_;
  }

 private:
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  void line(const char* phase) {
    const double s = elapsed();
    std::cerr << "[props] " << result_.name << ": " << result_.cases << "/" << planned_
              << " cases, " << result_.discarded << " discarded";
    if (std::string_view(phase) == "shrinking") {
      std::cerr << ", shrinking: " << result_.shrinks << " tried, " << accepted_ << " accepted";
    }
    std::cerr << ", " << s << " s (" << (s > 0 ? result_.cases / s : 0) << " cases/s)\n";
  }

  int planned_;
  Clock::time_point start_;
  int accepted_ = 0;
  CampaignResult result_;
};

// ---------------------------------------------------------------------------------------------
// Replay tokens: emitlabprop1.PROPERTY.EMITTER.STRATEGY.WORLDTOKEN. The world token is the
// failing run's (its scenario, choices and build); the case's scenario is that scenario with
// the case's strategy (a property's runs differ from their case in the strategy only).
// EMITTER is "-" for core's strategy. No part but the last contains a dot.

std::string property_token(const PropertyDef& def, const Case& c, const CheckedRun& failing) {
  return std::string(kTokenPrefix) + def.name + "." + (c.emitter.empty() ? "-" : c.emitter) + "." +
         c.scenario.strategy.name() + "." + failing.token;
}

struct ParsedToken {
  const PropertyDef* def = nullptr;
  std::string emitter;
  StrategySpec strategy;
  sim::ReplayToken world;
  std::string world_text;
};

// Splits off the next dot-separated part of `text`.
std::optional<std::string_view> next_part(std::string_view& text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view part = text.substr(0, dot);
  text.remove_prefix(dot + 1);
  return part;
}

std::optional<ParsedToken> parse_token(std::string_view text, std::string* error) {
  if (text.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    *error = "bad token: it does not start with '" + std::string(kTokenPrefix) + "'";
    return std::nullopt;
  }
  text.remove_prefix(kTokenPrefix.size());
  const auto name = next_part(text);
  const auto emitter = next_part(text);
  const auto strategy = next_part(text);
  if (!name || !emitter || !strategy) {
    *error = "bad token: expected emitlabprop1.PROPERTY.EMITTER.STRATEGY.emitlab1.…";
    return std::nullopt;
  }
  ParsedToken t;
  t.emitter = *emitter == "-" ? std::string() : std::string(*emitter);
  t.world_text = std::string(text);
  const SpecParse spec = parse_strategy(*strategy);
  if (!spec.spec) {
    *error = "bad token: " + spec.error;
    return std::nullopt;
  }
  t.strategy = *spec.spec;
  t.def = find_property(*name);
  if (t.def == nullptr) {
    *error = "bad token: this binary has no property '" + std::string(*name) + "'";
    return std::nullopt;
  }
  if (!t.emitter.empty() && find_emitter(t.emitter) == nullptr) {
    *error = "bad token: this binary has no test emitter '" + t.emitter + "'";
    return std::nullopt;
  }
  sim::TokenParse world = sim::decode(t.world_text);
  if (!world.token) {
    *error = world.error;
    return std::nullopt;
  }
  t.world = std::move(*world.token);
  return t;
}

// ---------------------------------------------------------------------------------------------
// A case that kills the process (a sanitizer report) or that Boost.Test's monitor catches as a
// signal cannot be shrunk: it is printed as it is, so that `BINARY check` can rerun it. UBSan
// dies through its own copy of the sanitizer runtime (no callback reaches us), so the case being
// checked is also kept in BINARY.case until it finishes.

std::string& crash_note() {
  static std::string note;
  return note;
}

void print_crash_note() {
  const std::string& note = crash_note();
  if (note.empty()) return;
  // Written with write(2): the process may be dying inside a sanitizer or signal handler.
  const ssize_t ignored = ::write(STDOUT_FILENO, note.data(), note.size());
  (void)ignored;
}

// Boost.Test turns signals into an execution_exception, caught outside the property.
class CrashObserver final : public boost::unit_test::test_observer {
 public:
  void exception_caught(const boost::execution_exception&) override { print_crash_note(); }
};

void install_crash_note() {
  static CrashObserver observer;
  boost::unit_test::framework::register_observer(observer);
#ifdef EMITLAB_SANITIZE
  __sanitizer_set_death_callback(&print_crash_note);
#endif
}

std::string case_file() {
  return self_path() + ".case";
}

void note_case(const PropertyDef& def, const Case& c) {
  crash_note() = "\nproperty: " + std::string(def.name) +
                 " (the process died on this case, before shrinking)\nscenario: " +
                 sim::canonical_json(c.scenario, -1) + "\n" +
                 (c.emitter.empty() ? "" : "emitter: " + c.emitter + "\n") +
                 "rerun: save the scenario as FILE, then " + self_path() + " check " + def.name +
                 " FILE" + (c.emitter.empty() ? "" : " " + c.emitter) + "\n";
  std::ofstream(case_file(), std::ios::trunc) << crash_note();
}

void case_done() {
  crash_note().clear();
  std::error_code ignored;  // already gone is fine
  std::filesystem::remove(case_file(), ignored);
}

// ---------------------------------------------------------------------------------------------
// The failure block

void print_scenario(std::ostream& os, const Case& c) {
  if (c.emitter.empty()) {
    os << "scenario:\n";
  } else {
    os << "scenario (run by the test emitter " << c.emitter << ", built from its strategy):\n";
  }
  os << sim::canonical_json(c.scenario) << "\n";
}

void print_outcome(std::ostream& os, const Verdict& v) {
  if (v.runs.empty()) {  // the check threw before a run finished
    os << "violation: " << (v.finding ? v.finding->line() : "none") << "\n";
    return;
  }
  if (v.finding) {
    os << "violation: " << v.finding->line() << " [in " << v.runs[v.failing_run].label << "]\n";
  } else {
    os << "violation: none (the property holds on this case)\n";
  }
  for (const auto& run : v.runs) os << "hashes: " << run.hashes() << "\n";
  os << v.runs[v.failing_run].alloc.line() << "\n";
}

void print_replay_lines(std::ostream& os, const PropertyDef& def, const Case& c, const Verdict& v) {
  if (v.runs.empty()) {
    os << "replay: save the scenario as FILE, then " << self_path() << " check " << def.name
       << " FILE" << (c.emitter.empty() ? "" : " " + c.emitter) << "\n";
    return;
  }
  const CheckedRun& failing = v.runs[v.failing_run];
  const std::string prop = self_path() + " replay " + property_token(def, c, failing);
  if (c.emitter.empty()) {
    os << "replay: " << EMITLAB_CLI << " replay " << failing.token << "\n";
    os << "replay property: " << prop << "\n";
  } else {
    os << "replay: " << prop << "\n";
    os << "(" << c.emitter << " exists only in this test binary: the emitlab CLI cannot run it)\n";
  }
}

// One line per case (EMITLAB_PROPS_SHOW=1): what was generated and what the runs did.
void show_case(std::ostream& os, const Case& c, const Verdict& v) {
  const auto& s = c.scenario;
  os << "[case] " << s.strategy.name() << " c=" << s.workload.connections
     << " n=" << s.workload.requests << " m=" << s.workload.concurrency << " body=["
     << s.workload.body.min << "," << s.workload.body.max << "] "
     << sim::to_string(s.workload.pacing) << " " << sim::to_string(s.link.completions) << " "
     << sim::to_string(s.peer.window) << " ring=" << s.rings.cipher_out_records
     << " pt=" << s.rings.plaintext;
  for (const auto& run : v.runs) {
    os << " | passes=" << run.result.passes.size() << " parks=" << run.result.totals.parks
       << " events=" << run.result.events << " verified=" << run.result.responses_verified
       << " cancelled=" << run.result.responses_cancelled;
  }
  os << (v.finding ? " FAIL " + v.finding->rule : std::string()) << "\n";
}

struct Failure {
  Case c;
  Verdict v;
};

// RapidCheck's reproduce string ("reproduce=..."), as its own listener prints it at exit.
std::string reproduce_param(const PropertyDef& def, const rcd::FailureResult& failure) {
  rcd::Configuration config;
  config.reproduce[def.name] = failure.reproduce;
  const std::string all = rcd::configToMinimalString(config);
  const auto at = all.find("reproduce=");
  return at == std::string::npos ? all : all.substr(at, all.find(' ', at) - at);
}

void print_failure(std::ostream& os, const PropertyDef& def, const rcd::TestParams& params,
                   const rcd::FailureResult& rc_failure, const Failure& f) {
  os << "property: " << def.name << "\n";
  os << "seed: " << params.seed << "\n";
  os << "reproduce: RC_PARAMS=\"" << reproduce_param(def, rc_failure) << "\" " << self_path()
     << " --run_test=" << def.name << "\n";
  print_scenario(os, f.c);
  print_replay_lines(os, def, f.c, f.v);
  print_outcome(os, f.v);
  os << std::flush;
}

void print_campaign(std::ostream& os) {
  const auto& results = campaign_results();
  if (results.empty()) return;
  os << "[props] campaign: " << scale() * kBuildShare
     << " x the default budget (EMITLAB_PROPS_SCALE x build share; RC_PARAMS max_success wins)\n";
  for (const auto& r : results) {
    os << "[props] " << r.name << ": " << r.cases << " cases in " << r.seconds << " s, "
       << (r.seconds > 0 ? r.cases / r.seconds : 0) << " cases/s, seed " << r.seed
       << (r.failed ? " (failed)" : "") << "\n";
    for (const auto& [base, a] : r.alloc) os << "[props]   " << base << ": " << a.line() << "\n";
  }
}

// `BINARY check PROPERTY FILE [EMITTER]`: the property's check on a scenario file (what a bug
// report can carry across builds, where replay tokens are refused).
int check_main(std::string_view name, const char* file, std::string_view emitter) {
  const PropertyDef* def = find_property(name);
  if (def == nullptr) return std::cerr << "no property '" << name << "' in this binary\n", 2;
  if (!emitter.empty() && find_emitter(emitter) == nullptr) {
    return std::cerr << "no test emitter '" << emitter << "' in this binary\n", 2;
  }
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const sim::ScenarioParse parsed = sim::parse_scenario(text);
  if (!in || !parsed.scenario) {
    return std::cerr << "bad scenario file '" << file << "': " << parsed.error << "\n", 2;
  }
  const Case c{*parsed.scenario, std::string(emitter)};
  const Verdict v = check_case(*def, c);
  std::cout << "property: " << def->name << "\n";
  print_scenario(std::cout, c);
  if (v.finding) print_replay_lines(std::cout, *def, c, v);
  print_outcome(std::cout, v);
  return v.finding ? 1 : 0;
}

int replay_main(std::string_view text) {
  std::string error;
  const auto t = parse_token(text, &error);
  if (!t) return std::cerr << error << "\n", 2;
  if (!(t->world.build == sim::this_build())) {
    std::cerr << "replay token from another build (" << t->world.build.text() << "); this is "
              << sim::this_build().text() << "\n";
    return 2;
  }
  Case c{t->world.scenario, t->emitter};
  c.scenario.strategy = t->strategy;
  const Verdict v = check_case(*t->def, c);
  std::cout << "property: " << t->def->name << "\n";
  print_scenario(std::cout, c);
  print_outcome(std::cout, v);
  if (!v.finding) return 0;  // fixed since: its runs may well decide otherwise now
  if (v.runs.empty()) return 1;
  // The failing run must have made exactly the recorded choices.
  const CheckedRun& failing = v.runs[v.failing_run];
  const auto& ch = failing.result.choices;
  if (!(failing.result.scenario == t->world.scenario) || ch.count != t->world.choice_count ||
      ch.digest != t->world.choice_digest) {
    std::cout << "replay diverged: the recorded run (" << t->world.scenario.strategy.name()
              << ") made " << t->world.choice_count << " choices, this failing run ("
              << failing.label << ") " << ch.count << "\n";
  }
  return 1;
}

}  // namespace

PropertyRegistration::PropertyRegistration(const PropertyDef& def) {
  properties().emplace(def.name, def);
}

const PropertyDef* find_property(std::string_view name) {
  if (const PropertyDef* def = find_suite_property(name)) return def;
  const auto it = properties().find(name);
  return it == properties().end() ? nullptr : &it->second;
}

EmitterRegistration::EmitterRegistration(std::string name, EmitterFactory factory) {
  emitters().emplace(std::move(name), std::move(factory));
}

const EmitterFactory* find_emitter(std::string_view name) {
  const auto it = emitters().find(name);
  return it == emitters().end() ? nullptr : &it->second;
}

std::string replay_command(const PropertyDef& def, const Case& c, const Verdict& v) {
  if (v.runs.empty()) {
    return self_path() + " check " + def.name + " FILE" +
           (c.emitter.empty() ? "" : " " + c.emitter);
  }
  return self_path() + " replay " + property_token(def, c, v.runs[v.failing_run]);
}

void run_property(const char* name) {
  const PropertyDef* found = find_property(name);
  if (found == nullptr) BOOST_FAIL("no property '" << name << "' in this binary");
  const PropertyDef& def = *found;
  const auto& test = boost::unit_test::framework::current_test_case();
  const rcd::TestMetadata meta{test.full_name(), test.p_name.get()};
  const std::optional<Mutant> mutant = armed_mutant();
  rcd::TestParams params = budget(def);
  if (mutant) params.disableShrinking = true;
  Progress progress(def, params);
  std::optional<Failure> last;
  const bool show = env("EMITLAB_PROPS_SHOW") != nullptr;
  auto property = [&] {
    Case c = *def.gen();
    if (mutant) c.scenario.mutant = *mutant;
    note_case(def, c);
    Verdict v = check_case(def, c);
    case_done();
    progress.add(v);
    if (show) show_case(std::cerr, c, v);
    if (!v.finding) return;
    const std::string line = v.finding->line();
    last = Failure{std::move(c), std::move(v)};  // the last failure run is the minimal one
    RC_FAIL(line);
  };
  const auto result = rcd::checkProperty(rcd::toProperty(property), meta, params, progress,
                                         rcd::configuration().reproduce);
  const bool failed = !result.is<rcd::SuccessResult>();
  campaign_results().push_back(progress.finish(failed));
  if (mutant) {
    const CampaignResult& r = campaign_results().back();
    write_mutant_result(def, *mutant, params, r.cases + (failed ? 1 : 0), r.seconds,
                        failed && last ? last->v.finding : std::nullopt);
  }
  BOOST_CHECK(true);  // Boost.Test reports a case with no assertion otherwise
  if (!failed) return;
  rcd::FailureResult failure;
  if (result.match(failure) && last) print_failure(std::cout, def, params, failure, *last);
  std::ostringstream message;
  rcd::printResultMessage(result, message);
  BOOST_FAIL(message.str());
}

int props_main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "replay") {
    if (argc != 3) return std::cerr << "usage: " << argv[0] << " replay emitlabprop1.TOKEN\n", 2;
    return replay_main(argv[2]);
  }
  if (argc == 2 && std::string_view(argv[1]) == "list-mutants") {
    // What EMITLAB_PROPS_MUTANT takes, one a line (scripts/props_vs_mutants.sh reads it).
    for (const MutantInfo& row : mutant_table()) {
      if (row.mutant != Mutant::None) std::cout << row.name << "\n";
    }
    return 0;
  }
  if (argc >= 2 && std::string_view(argv[1]) == "check") {
    if (argc != 4 && argc != 5) {
      return std::cerr << "usage: " << argv[0] << " check PROPERTY SCENARIO.json [EMITTER]\n", 2;
    }
    return check_main(argv[2], argv[3], argc == 5 ? argv[4] : "");
  }
  if (scale() < 0) {
    std::cerr << "bad EMITLAB_PROPS_SCALE '" << env("EMITLAB_PROPS_SCALE")
              << "': expected a positive number (a multiple of the default budget)\n";
    return 2;
  }
  if (const char* m = env("EMITLAB_PROPS_MUTANT"); m != nullptr && !parse_mutant(m).mutant) {
    std::cerr << "bad EMITLAB_PROPS_MUTANT '" << m << "': expected one of " << mutant_names()
              << "\n";
    return 2;
  }
  bool random = false;
  if (env("EMITLAB_PROPS_SEED") != nullptr && !seed_setting(&random) && !random) {
    std::cerr << "bad EMITLAB_PROPS_SEED '" << env("EMITLAB_PROPS_SEED")
              << "': expected a number or 'random'\n";
    return 2;
  }
  // Observers are registered once the framework is set up (in its init function).
  const int status = boost::unit_test::unit_test_main(
      [] {
        install_crash_note();
        return true;
      },
      argc, argv);
  print_campaign(std::cout);
  return status;
}

}  // namespace emitlab::props
