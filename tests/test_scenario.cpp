// Scenarios: the canonical form round-trips, and every bad key or value is refused in one line
// that names it and what is allowed.
#define BOOST_TEST_MODULE scenario
#include <boost/test/unit_test.hpp>

#include <map>
#include <stdexcept>
#include <string>

#include "sim/scenario.h"

namespace sim = emitlab::sim;

namespace {

std::string error_of(const std::string& json) {
  const auto parsed = sim::parse_scenario(json);
  BOOST_TEST(!parsed.scenario.has_value(), json);
  BOOST_TEST(parsed.error.find('\n') == std::string::npos);
  return parsed.error;
}

sim::Scenario odd_scenario() {
  sim::Scenario s;
  s.seed = 0xFFFFFFFFFFFFFFFFULL;
  s.strategy = *emitlab::parse_strategy("gather").spec;
  s.workload.connections = 7;
  s.workload.concurrency = 3;
  s.workload.requests = 50;
  s.workload.pacing = sim::Pacing::ClosedLoop;
  s.workload.body = {0, 70000};
  s.workload.kinds = {2, 1, 1, 1, 1};
  s.workload.trailers_permille = 250;
  s.workload.request_headers = {1, 4};
  s.workload.header_value = {0, 100};
  s.workload.handler_delay_ns = {0, 5000};
  s.link.completions = sim::CompletionMode::Mixed;
  s.link.sync_permille = 100;
  s.link.bandwidth = 0;
  s.link.buffer = 4096;
  s.link.read_chunk = {1, 1};
  s.link.pause_permille = 30;
  s.peer.window = sim::WindowPolicy::Withheld;
  s.peer.initial_window = 1000;
  s.peer.connection_window = 100000;
  s.peer.ping_permille = 5;
  s.peer.reset_permille = 6;
  s.peer.goaway_permille = 7;
  s.peer.abrupt_close_permille = 8;
  s.peer.input_after_pass_permille = 1000;
  s.rings.cipher_out_records = 1;
  s.rings.plaintext = 65536;
  s.mutant = emitlab::Mutant::WantWriteFatal;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(canonical_json_round_trips) {
  for (const sim::Scenario& s : {sim::Scenario{}, odd_scenario()}) {
    for (int indent : {2, -1}) {
      const std::string text = sim::canonical_json(s, indent);
      const auto parsed = sim::parse_scenario(text);
      BOOST_REQUIRE_MESSAGE(parsed.scenario.has_value(), parsed.error);
      BOOST_TEST((*parsed.scenario == s));
      BOOST_TEST(sim::canonical_json(*parsed.scenario, indent) == text);
    }
  }
  BOOST_TEST(sim::canonical_json(sim::Scenario{}, -1).find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_keys_keep_the_base) {
  sim::Scenario base;
  base.workload.requests = 77;
  const auto parsed = sim::parse_scenario(R"({"seed": 5, "link": {"buffer": "8K"}})", base);
  BOOST_REQUIRE(parsed.scenario.has_value());
  BOOST_TEST(parsed.scenario->seed == 5U);
  BOOST_TEST(parsed.scenario->link.buffer == 8192U);
  BOOST_TEST(parsed.scenario->workload.requests == 77U);
}

BOOST_AUTO_TEST_CASE(ranges_take_one_number_or_a_pair_and_sizes_take_units) {
  const auto parsed = sim::parse_scenario(
      R"({"workload": {"body": "16K", "stream_chunk": [1, "1K"]}, "link": {"read_chunk": 5}})");
  BOOST_REQUIRE_MESSAGE(parsed.scenario.has_value(), parsed.error);
  BOOST_TEST((parsed.scenario->workload.body == sim::Range{16384, 16384}));
  BOOST_TEST((parsed.scenario->workload.stream_chunk == sim::Range{1, 1024}));
  BOOST_TEST((parsed.scenario->link.read_chunk == sim::Range{5, 5}));
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_errors_naming_the_key_and_the_known_ones) {
  const auto top = error_of(R"({"seeed": 1})");
  BOOST_TEST(top.find("'seeed'") != std::string::npos, top);
  BOOST_TEST(top.find("seed") != std::string::npos);
  const auto nested = error_of(R"({"link": {"latency": 5}})");
  BOOST_TEST(nested.find("'link.latency'") != std::string::npos, nested);
  BOOST_TEST(nested.find("latency_ns") != std::string::npos, nested);
}

BOOST_AUTO_TEST_CASE(bad_values_are_errors_naming_value_key_and_what_is_allowed) {
  const struct {
    const char* json;
    const char* names[3];
  } cases[] = {
      {R"({"workload": {"connections": 0}})", {"0", "workload.connections", "1..10000"}},
      {R"({"workload": {"concurrency": 101}})", {"101", "workload.concurrency", "1..100"}},
      {R"({"workload": {"pacing": "open"}})",
       {"\"open\"", "workload.pacing", "lockstep|closed-loop"}},
      {R"({"link": {"completions": 1}})", {"1", "link.completions", "sync|async|mixed"}},
      {R"({"link": {"read_chunk": [10, 5]}})", {"[10,5]", "link.read_chunk", "min <= max"}},
      {R"({"link": {"read_chunk": 0}})", {"0", "link.read_chunk", "1..1048576"}},
      {R"({"link": {"buffer": "12X"}})", {"\"12X\"", "link.buffer", "K/KiB"}},
      {R"({"peer": {"window": "huge"}})",
       {"\"huge\"", "peer.window", "wide|eager|half|stingy|withheld"}},
      {R"({"peer": {"ping_permille": 1001}})", {"1001", "peer.ping_permille", "0..1000"}},
      {R"({"peer": {"ping_permille": -1}})", {"-1", "peer.ping_permille", "non-negative"}},
      {R"({"peer": {"ping_permille": 1.5}})", {"1.5", "peer.ping_permille", "non-negative"}},
      {R"({"rings": {"cipher_out_records": 17}})", {"17", "rings.cipher_out_records", "0..16"}},
      {R"({"rings": {"cipher_in": 1024}})", {"1024", "rings.cipher_in", "17408"}},
      {R"({"version": 2})", {"2", "version", "1..1"}},
      {R"({"workload": []})", {"[]", "workload", "an object"}},
      {R"({"seed": "one"})", {"\"one\"", "seed", "non-negative"}},
      {R"({"tls": {"handshake": "rsa"}})", {"\"rsa\"", "tls.handshake", "certificate|psk"}},
      {R"({"tls": {"handshake": "psk", "group": "X25519"}})", {"tls.group", "unknown", "key"}},
  };
  for (const auto& c : cases) {
    const std::string e = error_of(c.json);
    for (const char* n : c.names) BOOST_TEST(e.find(n) != std::string::npos, c.json << " -> " << e);
  }
}

BOOST_AUTO_TEST_CASE(strategies_are_parsed_by_core) {
  const auto e = error_of(R"({"strategy": "gathr"})");
  BOOST_TEST(e.find("gathr") != std::string::npos, e);
  const auto ok = sim::parse_scenario(R"({"strategy": "gather"})");
  BOOST_REQUIRE(ok.scenario.has_value());
  BOOST_TEST(ok.scenario->strategy.name() == "gather");
}

BOOST_AUTO_TEST_CASE(mutants_are_read_by_name_and_default_to_none) {
  const auto e = error_of(R"({"mutant": "gate-off"})");
  BOOST_TEST(e.find("gate-off") != std::string::npos, e);
  BOOST_TEST(e.find("inflight-gate-off") != std::string::npos, e);  // the allowed names
  BOOST_TEST(error_of(R"({"mutant": 3})").find("mutant") != std::string::npos);
  const auto ok = sim::parse_scenario(R"({"mutant": "no-window-redrive"})");
  BOOST_REQUIRE(ok.scenario.has_value());
  BOOST_TEST((ok.scenario->mutant == emitlab::Mutant::NoWindowRedrive));
  BOOST_TEST(sim::canonical_json(*ok.scenario, -1).find(R"("mutant":"no-window-redrive")") !=
             std::string::npos);
  // A scenario written before the key existed (an old replay token's) reads as no mutant.
  std::string old = sim::canonical_json(sim::Scenario{}, -1);
  const std::string key = R"("mutant":"none",)";
  BOOST_REQUIRE(old.find(key) != std::string::npos);
  old.erase(old.find(key), key.size());
  const auto read = sim::parse_scenario(old);
  BOOST_REQUIRE_MESSAGE(read.scenario.has_value(), read.error);
  BOOST_TEST((read.scenario->mutant == emitlab::Mutant::None));
  BOOST_TEST((*read.scenario == sim::Scenario{}));
}

BOOST_AUTO_TEST_CASE(the_handshake_is_read_by_name_and_defaults_to_certificate) {
  const auto ok = sim::parse_scenario(R"({"tls": {"handshake": "psk"}})");
  BOOST_REQUIRE(ok.scenario.has_value());
  BOOST_TEST((ok.scenario->tls.handshake == sim::TlsHandshake::Psk));
  const std::string text = sim::canonical_json(*ok.scenario, -1);
  BOOST_TEST(text.find(R"("tls":{"handshake":"psk"})") != std::string::npos, text);
  // A scenario written before the key existed (an old replay token's) reads as certificate.
  std::string old = sim::canonical_json(sim::Scenario{}, -1);
  const std::string key = R"(,"tls":{"handshake":"certificate"})";
  BOOST_REQUIRE(old.find(key) != std::string::npos);
  old.erase(old.find(key), key.size());
  const auto read = sim::parse_scenario(old);
  BOOST_REQUIRE_MESSAGE(read.scenario.has_value(), read.error);
  BOOST_TEST((read.scenario->tls.handshake == sim::TlsHandshake::Certificate));
  BOOST_TEST((*read.scenario == sim::Scenario{}));
}

BOOST_AUTO_TEST_CASE(impossible_combinations_are_errors) {
  BOOST_TEST(error_of(R"({"workload": {"connections": 5, "requests": 4}})").find("requests") !=
             std::string::npos);
  BOOST_TEST(error_of(R"({"workload": {"requests": 2000, "concurrency": 1, "body": "1M"}})")
                 .find("1 GiB") != std::string::npos);
  BOOST_TEST(error_of(R"({"workload": {"kinds": {"buffered": 0}}})").find("kinds") !=
             std::string::npos);
  BOOST_TEST(
      error_of(R"({"workload": {"request_headers": 64, "header_value": 4096}})").find("header") !=
      std::string::npos);
  BOOST_TEST(error_of("{not json").find("not JSON") != std::string::npos);
  BOOST_TEST(error_of("[1, 2]").find("object") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(input_independence_needs_lockstep_wide_windows_and_no_timed_input) {
  sim::Scenario s;
  s.workload.pacing = sim::Pacing::Lockstep;
  BOOST_TEST(s.input_independent());
  s.link.completions = sim::CompletionMode::Mixed;  // timing only
  s.link.pause_permille = 500;
  s.workload.kinds = {1, 0, 1, 1, 1};
  BOOST_TEST(s.input_independent());
  const auto breaks = [](auto change) {
    sim::Scenario t;
    change(t);
    return !t.input_independent();
  };
  BOOST_TEST(breaks([](sim::Scenario& t) { t.workload.pacing = sim::Pacing::ClosedLoop; }));
  BOOST_TEST(breaks([](sim::Scenario& t) { t.peer.window = sim::WindowPolicy::Eager; }));
  BOOST_TEST(breaks([](sim::Scenario& t) { t.peer.ping_permille = 1; }));
  BOOST_TEST(breaks([](sim::Scenario& t) { t.peer.reset_permille = 1; }));
  BOOST_TEST(breaks([](sim::Scenario& t) { t.peer.goaway_permille = 1; }));
  BOOST_TEST(breaks([](sim::Scenario& t) { t.peer.abrupt_close_permille = 1; }));
  BOOST_TEST(breaks([](sim::Scenario& t) { t.workload.handler_delay_ns = {0, 1}; }));
  BOOST_TEST(breaks([](sim::Scenario& t) { t.workload.kinds.streaming = 1; }));
}

BOOST_AUTO_TEST_CASE(requests_are_split_like_h2load) {
  sim::Scenario s;
  s.workload.connections = 3;
  s.workload.requests = 10;
  BOOST_TEST(s.requests_of(0) == 4U);
  BOOST_TEST(s.requests_of(1) == 3U);
  BOOST_TEST(s.requests_of(2) == 3U);
}

// Inputs that once aborted, overflowed the stack or echoed without bound.
BOOST_AUTO_TEST_CASE(hostile_json_is_refused_in_one_line) {
  const std::string deep_array =
      "{\"workload\":{\"body\":" + std::string(70000, '[') + std::string(70000, ']') + "}}";
  const std::string deep_seed =
      "{\"seed\":" + std::string(70000, '[') + std::string(70000, ']') + "}";
  const std::string huge_value = "{\"strategy\":\"" + std::string(100000, 'x') + "\"}";
  const std::pair<std::string, const char*> cases[] = {
      {R"({"seed": 1e400})", "number overflow"},
      {R"({"workload": {"body": [1e400, 1]}})", "number overflow"},
      {deep_array, "nested deeper than 8"},
      {deep_seed, "nested deeper than 8"},
      {R"({"seed": 1, "seed": 2})", "duplicate key 'seed'"},
      {R"({"link": {"buffer": 4096, "buffer": "8K"}})", "duplicate key 'buffer'"},
      {R"({"seed": 18446744073709551616})", "seed"},
      {R"({"seed": -1})", "seed"},
      {R"({"seed": 5.0})", "seed"},
      {R"({"link": {"buffer": "010K"}})", "link.buffer"},
      {std::string(sim::kMaxScenarioBytes + 1, ' '), "larger than"},
  };
  for (const auto& [json, why] : cases) {
    const std::string e = error_of(json);
    BOOST_TEST_CONTEXT(json.substr(0, 60) << " -> " << e) {
      BOOST_TEST(e.find(why) != std::string::npos);
      BOOST_TEST(e.size() < 400U);
    }
  }
  // A long value is echoed cut, and control characters come back escaped.
  const std::string long_echo = error_of(huge_value);
  BOOST_TEST(long_echo.size() < 400U, long_echo);
  BOOST_TEST(long_echo.find("100000 bytes") != std::string::npos, long_echo);
  const std::string esc = error_of("{\"workload\": {\"pacing\": \"a\\nb\\u001b[31m\"}}");
  BOOST_TEST(esc.find('\x1b') == std::string::npos, esc);
  BOOST_TEST(esc.find('\n') == std::string::npos, esc);
  const std::string esc_strategy = error_of("{\"strategy\": \"gather\\u001b[2J\"}");
  BOOST_TEST(esc_strategy.find('\x1b') == std::string::npos, esc_strategy);
  // Seven levels of arrays inside a known key are read (and refused as a value, not as JSON).
  BOOST_TEST(error_of(R"({"workload": {"body": [[[[[[1]]]]]]}})").find("workload.body") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(fields_are_listed_and_set_from_the_one_table) {
  const auto fields = sim::scenario_fields();
  std::map<std::string, sim::ScenarioField> by_path;
  for (const auto& f : fields) by_path[f.path] = f;
  BOOST_TEST(by_path.at("workload.requests").allowed == "1..10000000");
  BOOST_TEST(by_path.at("workload.requests").value == "100");
  BOOST_TEST(by_path.at("link.read_chunk").value == "1K..64K");
  BOOST_TEST(by_path.at("rings.plaintext").allowed == "4K..16M bytes");
  BOOST_TEST(by_path.at("workload.pacing").allowed == "lockstep|closed-loop");
  sim::Scenario s;
  BOOST_TEST(sim::set_field(s, "workload.requests", "5000").empty());
  BOOST_TEST(s.workload.requests == 5000U);
  BOOST_TEST(sim::set_field(s, "link.read_chunk", "3K").empty());
  BOOST_TEST(s.link.read_chunk.min == 3072U);
  BOOST_TEST(s.link.read_chunk.max == 3072U);
  BOOST_TEST(sim::set_field(s, "strategy", "gather+A1").empty());
  BOOST_TEST(s.strategy.name() == "gather+A1");
  for (const char* bad : {"0", "10000001", "010", "0x10", " 5", "+5", "5 ", "-1", ""}) {
    BOOST_TEST(sim::set_field(s, "workload.requests", bad).find("1..10000000") != std::string::npos,
               bad);
  }
  BOOST_TEST(s.workload.requests == 5000U);  // refused values leave the field alone
  BOOST_TEST(sim::set_field(s, "seed", "18446744073709551616").find("0..18446744073709551615") !=
             std::string::npos);
  BOOST_TEST(sim::set_field(s, "strategy", "drain@cap=16K").find("drain takes no") !=
             std::string::npos);
  BOOST_CHECK_THROW(sim::set_field(s, "workload.nothing", "1"), std::logic_error);
}

BOOST_AUTO_TEST_CASE(cross_field_rules_say_what_each_field_may_be) {
  sim::Scenario s;
  s.workload.body = {16 << 20, 16 << 20};  // 100 requests x 16 MiB on one connection
  const auto c = sim::conflict(s);
  BOOST_REQUIRE(c.has_value());
  BOOST_TEST(c->message.find("1 GiB") != std::string::npos);
  std::map<std::string, std::string> allowed;
  for (const auto& f : c->fields) allowed[f.path] = f.allowed;
  BOOST_TEST(allowed.at("workload.body") == "0..10737418");  // floor(1 GiB / 100) bytes
  BOOST_TEST(allowed.at("workload.requests") == "1..64");
  BOOST_TEST(allowed.at("workload.connections") == "2..10000");
  sim::Scenario t;
  t.workload.connections = 10;
  t.workload.requests = 5;
  const auto d = sim::conflict(t);
  BOOST_REQUIRE(d.has_value());
  BOOST_TEST(d->fields.at(0).allowed == "10..10000000");
}
