// The figures of a run summary, declared once: the JSON of `run`, `compare` and `replay` is
// built from this list, the text tables print its fields under their headings, and --fields
// chooses among them by the same names (the JSON paths, dots for nesting).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "sim/summary.h"

namespace emitlab::cli {

// The headings, in print order. JsonOnly fields (the strategy that labels a row, the failure,
// the replay token) are never a table column.
enum class Group {
  Delivery,
  PassesAndWrites,
  AllocationsAndReferences,
  Copies,
  Wire,
  Time,
  JsonOnly
};
inline constexpr Group kTableGroups[] = {Group::Delivery,
                                         Group::PassesAndWrites,
                                         Group::AllocationsAndReferences,
                                         Group::Copies,
                                         Group::Wire,
                                         Group::Time};
const char* heading(Group g);
const char* group_name(Group g);  // for --fields: delivery, passes, allocations, copies, ...

enum class Format {
  Count,     // an integer
  Fixed,     // `digits` after the point
  Percent,   // a ratio printed as a percentage with one digit
  Duration,  // nanoseconds; the column picks one unit (ns, us, ms, s) for all its cells
  Text,
  YesNo,
};

struct Field {
  std::string key;     // JSON path ("ttfb_ns.p50") and the name --fields takes
  std::string header;  // column header, '\n' between its lines
  Group group;
  bool shown;  // in the default tables; the others with --wide or --fields
  Format format;
  int digits = 0;                                            // Fixed only
  std::function<nlohmann::json(const sim::Summary&)> value;  // null json: not measured
};

const std::vector<Field>& summary_fields();
const Field* find_field(const std::string& key);

// Every deterministic figure, plus "host": {cpu_seconds, responses_per_cpu_second}, the one
// part that measures the machine rather than the run.
nlohmann::json to_json(const sim::Summary& s);

// Which fields the text tables print, and whether replay lines are printed for good runs.
struct View {
  bool wide = false;
  std::string fields;  // comma-separated keys or group names; empty: the default fields
  bool show_replay = false;
};
// --wide, --fields, --show-replay (run, compare, replay), and the view they ask for (throws
// UsageError for a bad --fields).
std::vector<Flag> view_flags();
View view_of(const Args& args);
// The fields a view prints, in declared order. Throws UsageError on an unknown name or on
// --wide with --fields.
std::vector<const Field*> chosen_fields(const View& view);

// The text of one field's column over several summaries: the header (with the column's unit
// for durations) and one cell per summary, all with the same precision.
struct ColumnText {
  std::string header;
  bool numeric = false;
  std::vector<std::string> cells;
};
ColumnText column_text(const Field& f, const std::vector<sim::Summary>& runs);

}  // namespace emitlab::cli
