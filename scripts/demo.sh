#!/bin/bash
# A real migration on throwaway local PostgreSQL 15 clusters: a "source" with a
# sample database and a "target" standing in for YugabyteDB. Everything is
# removed at the end. Run with `make demo`.
set -u
cd "$(dirname "$0")/.."
. tests/lib/harness.sh
TEST_NAME=demo

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
    printf '$ yb-voyager'; printf ' %q' "$@"; printf '\n'
    "$VOYAGER" "$@"
    local rc=$?
    if [ "$rc" = 6 ]; then
        say "this step is not built yet in this version: the demo stops here"
        exit 0
    fi
    return $rc
}

say "starting throwaway clusters (source with a sample database, target)"
start_clusters source target || exit 1
conn_flags
echo "source: 127.0.0.1:$SOURCE_PORT/sourcedb   target: 127.0.0.1:$TARGET_PORT/yugabyte   (user voyager)"
ED=$(new_export_dir)
echo "export dir: $ED"

say "export schema"
run export schema -e "$ED" "${SRC_FLAGS[@]}" || exit 1
say "analyze-schema"
run analyze-schema -e "$ED" --output-format txt || exit 1
say "import schema"
run import schema -e "$ED" "${TGT_FLAGS[@]}" || exit 1
say "export data (snapshot)"
run export data -e "$ED" "${SRC_FLAGS[@]}" --disable-pb || exit 1
say "import data"
run import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb || exit 1
say "import schema --post-snapshot-import true (indexes, triggers)"
run import schema -e "$ED" "${TGT_FLAGS[@]}" --post-snapshot-import true || exit 1
say "import data status"
run import data status -e "$ED" || exit 1

say "comparing source and target, table by table (row count, checksum)"
compare_databases source target
done_testing && say "demo finished: source and target are equal"
