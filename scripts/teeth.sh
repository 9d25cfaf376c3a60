#!/usr/bin/env bash
# The README's teeth table, from a real run: for every mutant of the bug zoo, the explorer on
# its named scope (emitlab explore --list-mutants --json says which), the schedules and seconds
# until caught and the rule, whether its replay line reproduces the violation in a fresh
# process, and whether (after how many cases) the random property suite caught it with its
# default budget (scripts/props_vs_mutants.sh).
#
# usage: scripts/teeth.sh [-b BUILD_DIR] [--no-props | --props-from FILE] [MUTANT...]
#   -b BUILD_DIR       the build to run (default: build/release; needs emitlab and the props
#                      binaries)
#   --no-props         leave the property suite's column empty (it is the slow part)
#   --props-from FILE  fill that column from the JSON lines of an earlier, real
#                      scripts/props_vs_mutants.sh run (docs/zoo-props.jsonl) instead of
#                      running the suite again (about 23 CPU minutes for every mutant)
# Prints a Markdown table on stdout; exit 1 when the explorer misses a mutant or a replay does
# not reproduce, 2 for bad arguments.
set -euo pipefail

build=build/release
props=1
props_from=""
only=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -b) build="$2"; shift 2 ;;
    --no-props) props=0; shift ;;
    --props-from)
      props_from="${2:-}"
      if [[ ! -r "$props_from" ]]; then
        echo "teeth.sh: bad --props-from '$props_from': cannot be read" >&2
        exit 2
      fi
      shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "teeth.sh: unknown flag '$1'; expected -b, --no-props, --props-from" >&2; exit 2 ;;
    *) only+=("$1"); shift ;;
  esac
done
cli="$build/cli/emitlab"
if [[ ! -x "$cli" ]]; then
  echo "teeth.sh: no emitlab in '$build/cli' (build it first)" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cli" explore --list-mutants --json >"$work/mutants.json"
python3 - "$work/mutants.json" "${only[@]}" >"$work/plan" <<'PY'
import json, sys
table = json.load(open(sys.argv[1]))
only = sys.argv[2:]
names = [m["name"] for m in table]
for o in only:
    if o not in names:
        sys.exit(f"teeth.sh: unknown mutant '{o}'; expected one of {' '.join(names)}")
for m in table:
    if not only or m["name"] in only:
        print(m["name"], m["scope"], m["strategy"], m["bound"])
PY

status=0
: >"$work/rows"
while read -r name scope strategy bound; do
  set +e
  "$cli" explore --scope "$scope" --strategy "$strategy" --bound "$bound" --mutant "$name" \
    --json >"$work/$name.explore" 2>/dev/null
  rc=$?
  set -e
  replay_ok=no
  if [[ $rc -eq 1 ]]; then
    replay=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["violations"][0]["replay"])' \
      "$work/$name.explore")
    rule=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["violations"][0]["rule"])' \
      "$work/$name.explore")
    # A fresh process: the token alone must bring the violation back, by the same rule.
    # shellcheck disable=SC2086  # "replay TOKEN": two words
    again=$("$cli" ${replay#emitlab } 2>/dev/null || true)
    if grep -q "^violation: $rule:" <<<"$again"; then replay_ok=yes; fi
  fi
  [[ $rc -eq 1 && $replay_ok == yes ]] || status=1
  props_line=""
  if [[ $props -eq 1 ]]; then
    if [[ -n "$props_from" ]]; then
      lines_of() { grep -F "\"mutant\":\"$name\"," "$props_from" || true; }
    else
      lines_of() { "$here/props_vs_mutants.sh" -b "$build" "$name" 2>/dev/null; }
    fi
    props_line=$(lines_of | python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin if l.strip()]
caught = [l for l in lines if l["caught"]]
if not lines:
    print("(no result)")
elif caught:
    best = min(caught, key=lambda l: l["cases"])
    print(f"yes, after {best['"'"'cases'"'"']} cases ({best['"'"'property'"'"']}, {best['"'"'rule'"'"']}); "
          f"{len(caught)} of {len(lines)} properties")
else:
    print(f"no ({lines[0]['"'"'budget'"'"']} cases x {len(lines)} properties)")
')
  fi
  python3 - "$work/$name.explore" "$work/mutants.json" "$name" "$scope" "$strategy" "$rc" \
    "$replay_ok" "$props_line" >>"$work/rows" <<'PY'
import json, sys
path, table, name, scope, strategy, rc, replay_ok, props = sys.argv[1:9]
history = next(m["history"] for m in json.load(open(table)) if m["name"] == name)
try:
    j = json.loads(open(path).read().strip().splitlines()[-1])
except Exception:
    j = None
if j and j["violations"]:
    v = j["violations"][0]
    cells = [str(j["schedules"]), f'{j["seconds"]:.2f}', f'`{v["rule"]}` (K={v["deviations"]})']
else:
    cells = ["not caught" if rc != "2" else "bad input", "", ""]
print(f"| `{name}` | {history} | `{scope}` {strategy} | " + " | ".join(cells) +
      f" | {replay_ok} | {props} |")
PY
done <"$work/plan"

echo "| mutant | history | scope, strategy | schedules until caught | seconds | rule | replay reproduces | random property suite |"
echo "|---|---|---|---|---|---|---|---|"
cat "$work/rows"
exit $status
