#!/usr/bin/env bash
# Formats every tracked C++ source with the repository's .clang-format (clang-format 14, the
# Debian 12 package); with --check it changes nothing, names the files that are not formatted
# and exits 1 (CTest's format_check runs that).
#   format.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "format.sh: unknown argument '$1' (allowed: --check)" >&2; exit 2 ;;
esac
if ! command -v clang-format >/dev/null; then
  echo "format.sh: clang-format is not installed (bash scripts/setup.sh installs it)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if ((${#files[@]} == 0)); then
  echo "format.sh: no tracked C++ files here (not a git checkout?)" >&2
  exit 2
fi
if ((check == 0)); then
  exec clang-format --style=file -i "${files[@]}"
fi
bad=()
for f in "${files[@]}"; do
  clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "format.sh: not formatted (bash scripts/format.sh formats them): ${bad[*]}"
  exit 1
fi
echo "format.sh: ${#files[@]} files formatted"
