#!/usr/bin/env bash
# The property suite's default budget (default seed, default cases, no shrinking) against the
# mutants of the bug zoo (core/mutant.h). One JSON line per (mutant, property) on stdout:
#   {"mutant":M,"property":P,"caught":B,"cases":N,"budget":N,"rule":R|null,"seconds":S,"seed":S}
# `cases` is the number of cases run until the property caught the mutant, the catching case
# included (the whole budget when it did not); `rule` is the rule that caught it.
#
# usage: scripts/props_vs_mutants.sh [-b BUILD_DIR] [-p PROPERTY]... [--table] [--check]
#                                    [--from FILE] [MUTANT...]
#   -b BUILD_DIR  the build whose props binaries run (default: build/release)
#   -p PROPERTY   only this suite property (repeatable; default: every suite property)
#   MUTANT        only these mutants (default: every one, as `props_per_stream list-mutants`)
#   --table       a Markdown table (one row per mutant) instead of the JSON lines
#   --from FILE   no run: print the table of an earlier run's JSON lines in FILE
#   --check       exit 1 unless every line says caught (the CTest smoke test)
# Each (mutant, property) runs in its own process, one after the other (one core).
set -euo pipefail

build=build/release
props=()
mutants=()
table=0
check=0
from=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -b) build="$2"; shift 2 ;;
    -p) props+=("$2"); shift 2 ;;
    --table) table=1; shift ;;
    --check) check=1; shift ;;
    --from) from="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "props_vs_mutants.sh: unknown flag '$1'; expected -b, -p, --table, --check, --from" >&2
        exit 2 ;;
    *) mutants+=("$1"); shift ;;
  esac
done

print_table() {
  python3 - "$1" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
props = list(dict.fromkeys(l["property"] for l in lines))
mutants = list(dict.fromkeys(l["mutant"] for l in lines))
print("| mutant | " + " | ".join(props) + " |")
print("|---|" + "---|" * len(props))
for m in mutants:
    cells = []
    for p in props:
        l = next((x for x in lines if x["mutant"] == m and x["property"] == p), None)
        if l is None:
            cells.append("not run")
        elif l["caught"]:
            cells.append(f'{l["cases"]} (`{l["rule"]}`, {l["seconds"]:.1f} s)')
        else:
            cells.append(f'not in {l["budget"]} ({l["seconds"]:.1f} s)')
    print(f"| `{m}` | " + " | ".join(cells) + " |")
EOF
}

if [[ -n "$from" ]]; then
  if [[ ! -r "$from" ]]; then
    echo "props_vs_mutants.sh: bad --from '$from': cannot be read" >&2
    exit 2
  fi
  print_table "$from"
  exit 0
fi

dir="$build/props"
if [[ ! -x "$dir/props_per_stream" ]]; then
  echo "props_vs_mutants.sh: no props binaries in '$dir' (build the props targets first)" >&2
  exit 2
fi
# The suite's properties live in these binaries (props/CMakeLists.txt); the others hold tests
# of the runner and of the zoo itself.
binaries=(props_per_stream props_app_stream props_ciphertext props_allocations)

known_mutants=$("$dir/props_per_stream" list-mutants)
if [[ ${#mutants[@]} -eq 0 ]]; then
  mapfile -t mutants <<<"$known_mutants"
fi
for m in "${mutants[@]}"; do
  if ! grep -qx -- "$m" <<<"$known_mutants"; then
    echo "props_vs_mutants.sh: unknown mutant '$m'; expected one of" $known_mutants >&2
    exit 2
  fi
done

# property -> binary, from each binary's enabled test cases (in the order they list them).
declare -A home=()
suite=()
for b in "${binaries[@]}"; do
  while read -r name; do
    home[$name]=$b
    suite+=("$name")
  done < <("$dir/$b" --list_content 2>&1 | sed -n 's/^ *\([a-z0-9_]*\)\*$/\1/p')
done
if [[ ${#props[@]} -eq 0 ]]; then props=("${suite[@]}"); fi
for p in "${props[@]}"; do
  if [[ -z "${home[$p]:-}" ]]; then
    echo "props_vs_mutants.sh: unknown property '$p'; expected one of ${suite[*]}" >&2
    exit 2
  fi
done

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for m in "${mutants[@]}"; do
  for p in "${props[@]}"; do
    # A caught mutant fails its test case (exit 1) by design: only the JSON line matters here.
    env -u RC_PARAMS -u EMITLAB_PROPS_SEED -u EMITLAB_PROPS_SCALE \
      EMITLAB_PROPS_MUTANT="$m" EMITLAB_PROPS_RESULTS="$results" \
      "$dir/${home[$p]}" --run_test="$p" >/dev/null 2>&1 || true
    if ! tail -n 1 "$results" | grep -q "\"mutant\":\"$m\",\"property\":\"$p\""; then
      echo "props_vs_mutants.sh: $p against $m wrote no result line" >&2
      exit 1
    fi
  done
done

if [[ $table -eq 1 ]]; then
  print_table "$results"
else
  cat "$results"
fi
if [[ $check -eq 1 ]] && grep -q '"caught":false' "$results"; then
  echo "props_vs_mutants.sh: a property did not catch its mutant" >&2
  exit 1
fi
