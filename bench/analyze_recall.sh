#!/usr/bin/env bash
# Recall and precision of analyze-schema (issue kind + object) on our corpus of sample-database
# schemas, tests/fixtures/analyze/corpus, against corpus.expected. Prints the misses, the extras
# and the figures; exits non-zero below 0.95 for either.
#   bench/analyze_recall.sh            (builds build/unit-tests if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ -x "$BUILD/unit-tests" ] || make -s -j2 "$BUILD/unit-tests" >/dev/null
out=$("$BUILD/unit-tests" analyze_corpus_recall_and_precision 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out" | grep -E '^    (missed|unexpected|corpus):' | sed 's/^    //'
exit "$rc"
