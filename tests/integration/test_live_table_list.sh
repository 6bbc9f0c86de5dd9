#!/bin/bash
# The table list of a live import is fixed by its first run (issue 11, defect
# 8): the importer's progress moves past the changes of tables it leaves out,
# so a restart that adds them back would never get their earlier changes.
# First run with --exclude-table-list pairs; a restart without it is refused
# (exit 3); one with the same list spelt differently is not; --start-clean
# --truncate-tables with the full list starts the import over, and after the
# cutover the target equals the source, pairs included.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
pairs_events() {
    python3 -c "$_queue_py"'
print(sum(1 for _, e in events() if e.get("table_name") == "pairs"))' "$ED"
}

live_setup --exclude-table-list pairs || exit 1
live_workload_sql 300 51 | psql_as source sourcedb >/dev/null
for i in $(seq 1 100); do
    grep -q "changes of public.pairs are skipped" "$ED/logs/yb-voyager-import-data-to-target.log" 2>/dev/null && break
    sleep 0.2
done
sleep 1
live_stop "$IMP_PID"
check "the first run skipped changes of pairs ($(pairs_events) queued)" \
    grep -q "changes of public.pairs are skipped" "$ED/logs/yb-voyager-import-data-to-target.log"

expect_refusal "a restart without the exclusion is refused" 3 \
    'table list differs from this import.s first run \(--table-list "", --exclude-table-list "pairs"; now "", ""\).*--start-clean' \
    timeout 30 "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
expect_refusal "a restart excluding another table is refused" 3 "table list differs" \
    timeout 30 "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true --exclude-table-list items
live_start_importer --exclude-table-list 'PAIRS,pairs'
sleep 3
check "the same list spelt differently is accepted (still running)" kill -0 "$IMP_PID"
live_stop "$IMP_PID"

live_start_importer --start-clean true --truncate-tables true
live_workload_sql 50 52 | psql_as source sourcedb >/dev/null
for i in $(seq 1 150); do [ "$(status_get "$ED" ImportDataDone)" = true ] && break; sleep 0.2; done
live_cutover_to_target "import data --start-clean with the full list exits 0 after the end of stream"
done_testing
