#!/bin/bash
# import data --start-clean --truncate-tables --table-list parent empties the parent
# only: an inheritance child is a table of its own, loaded from its own file, whose
# batches stay counted as imported (a plain TRUNCATE emptied it for good, exit 0).
# A partitioned table in the list is still emptied with its partitions.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null && pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
SCHEMA_SQL="
CREATE TABLE parent(id int PRIMARY KEY, v text);
CREATE TABLE child(extra int) INHERITS (parent);
CREATE TABLE parted(k int, region text) PARTITION BY LIST (region);
CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
"
for c in source:sourcedb target:yugabyte; do
    psql_as "${c%%:*}" "${c#*:}" -c "$SCHEMA_SQL" >/dev/null || not_ok "schema on ${c%%:*}"
done
psql_as source sourcedb -c "INSERT INTO parent VALUES (1, 'p')" -c "INSERT INTO child VALUES (2, 'c', 7)" \
    -c "INSERT INTO parted VALUES (1, 'eu'), (2, 'eu')" >/dev/null
ED=$(new_export_dir)
check "export data" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --disable-pb
check "import data" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
compare_databases source target

check "import data --start-clean --truncate-tables of the parent and the partitioned table" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb --start-clean true --truncate-tables true \
    --table-list parent,parted
assert_eq "the child's row is kept" "1" "$(psql_as target yugabyte -c "SELECT count(*) FROM ONLY child")"
assert_eq "the parent's own row is loaded once" "1" "$(psql_as target yugabyte -c "SELECT count(*) FROM ONLY parent")"
assert_eq "the partitioned table is loaded once" "2" "$(psql_as target yugabyte -c "SELECT count(*) FROM parted")"
check "import data again" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
compare_databases source target
done_testing
