// Exploration scopes: a small scenario the explorer exhausts, the hazard of
// the upstream's emit path it reaches, the bound it is exhausted to by default, and the labels
// it holds at their defaults. Named scopes are built in; scope files (strict JSON, like
// scenarios) describe users' own:
//   {"name": "mine", "hazard": "what it reaches", "bound": 2, "hold": ["read_delay"],
//    "scenario": { ...a scenario, read by parse_scenario... }}
// Only "scenario" is required; unknown keys are errors. A scope's scenario starts from
// scope_base(): its handshake is psk unless it says {"tls": {"handshake": "certificate"}}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutant.h"
#include "sim/choice.h"
#include "sim/scenario.h"

namespace emitlab::sim {

struct Scope {
  std::string name;
  std::string hazard;
  Scenario scenario;  // its strategy is drain unless the scope or the caller says otherwise
  std::uint32_t bound = 1;
  std::vector<Decision> hold;
};

// The scenario a scope's "scenario" is read over: the default one with the psk handshake, which
// makes a schedule several times cheaper and leaves the application stream as it is.
Scenario scope_base();

// Every named scope, in a fixed order.
const std::vector<Scope>& named_scopes();
const Scope* find_scope(std::string_view name);

// A scope file holds one scenario under one key: the scenario's limits, one level deeper.
inline constexpr std::size_t kMaxScopeBytes = kMaxScenarioBytes;
inline constexpr std::size_t kMaxScopeDepth = kMaxScenarioDepth + 1;
static_assert(kMaxScopeDepth > kMaxScenarioDepth, "a scope's scenario is read in full");

struct ScopeParse {
  std::optional<Scope> scope;
  std::string error;  // one line
};
// Strict and bounded like scenarios (sim/json_reader.h): at most kMaxScopeBytes and
// kMaxScopeDepth, no duplicate key, every number exact; never throws.
// `origin` names the file in errors and is the scope's name when the file gives none.
ScopeParse parse_scope(std::string_view json_text, const std::string& origin);
std::optional<Decision> decision_named(std::string_view name);

// Where the explorer shows each mutant's teeth: the named scope that
// reaches its hazard, the strategy whose code holds the fault point, and the bound.
struct TeethScope {
  Mutant mutant;
  std::string_view scope;
  std::string_view strategy;
  std::uint32_t bound;
};
const TeethScope& teeth_scope(Mutant m);

}  // namespace emitlab::sim
