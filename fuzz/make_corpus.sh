#!/usr/bin/env bash
# Records the fuzz harnesses' seed corpora from real runs (fuzz/record_seeds.cpp says what):
#   bash fuzz/make_corpus.sh build/fuzz/fuzz/emitlab_fuzz_seeds DIR
# DIR/readers, DIR/h2 and DIR/tls are rewritten from scratch, so the seeds follow the code.
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: make_corpus.sh SEEDS_BINARY DIR" >&2
  exit 2
fi
rm -rf "$2/readers" "$2/h2" "$2/tls"
"$1" "$2"
for d in readers h2 tls; do
  n=$(find "$2/$d" -type f | wc -l)
  if [[ $n -eq 0 ]]; then
    echo "make_corpus.sh: no seeds in $2/$d" >&2
    exit 1
  fi
  echo "make_corpus.sh: $n seeds in $2/$d"
done
