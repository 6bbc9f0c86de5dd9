#!/bin/bash
# A partition tree cut by --source-db-schema is refused by export schema and
# export data (exit 2), naming the partitions and the schema to add: a
# partition whose parent's schema is not exported had its rows lost (exit 0),
# one in a schema not exported was left out of the schema while its rows were
# exported through the root. With both schemas the tree migrates whole. A partition named in a
# table list is refused naming its root (it was "does not exist").
. "$(dirname "$0")/../lib/harness.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null && pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
psql_as source sourcedb <<'SQL' >/dev/null
CREATE SCHEMA other;
CREATE SCHEMA "Mid";
CREATE TABLE public.pt (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE public.pt_1 PARTITION OF public.pt FOR VALUES FROM (0) TO (100);
CREATE TABLE other.pt_2 PARTITION OF public.pt FOR VALUES FROM (100) TO (200);
CREATE TABLE other.plain (id int PRIMARY KEY);
INSERT INTO public.pt SELECT g, 'v' || g FROM generate_series(1, 199) g;
INSERT INTO other.plain VALUES (1);
CREATE SCHEMA deep;
CREATE TABLE deep.root (id int, k int) PARTITION BY LIST (k);
CREATE TABLE "Mid".lvl PARTITION OF deep.root FOR VALUES IN (1) PARTITION BY RANGE (id);
CREATE TABLE deep.leaf PARTITION OF "Mid".lvl FOR VALUES FROM (0) TO (10);
INSERT INTO deep.root VALUES (1, 1), (2, 1);
SQL
SRC=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT" --source-db-user voyager --source-db-name sourcedb)
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)

ED=$(new_export_dir)
expect_refusal "export schema: partition of a root whose schema is not exported" 2 \
    "partition\(s\) cross the schemas selected: other\.pt_2 of public\.pt \(the parent's schema is not exported: the partition's rows would be lost\).*add public to --source-db-schema" \
    "$V" export schema -e "$ED" "${SRC[@]}" --source-db-schema other
expect_refusal "export data: the same, before anything is exported" 2 \
    "other\.pt_2 of public\.pt .*add public to --source-db-schema" \
    "$V" export data -e "$ED" "${SRC[@]}" --source-db-schema other --disable-pb true
assert_eq "export data exported nothing" "" "$(ls "$ED/data" 2>/dev/null | grep -v '^$' | head -1)"
expect_refusal "export schema: a partition in a schema not exported" 2 \
    "other\.pt_2 of public\.pt \(the partition's schema is not exported: its rows would be read through the parent.*add other to --source-db-schema" \
    "$V" export schema -e "$ED" "${SRC[@]}" --source-db-schema public
expect_refusal "export data: the same" 2 "other\.pt_2 of public\.pt .*add other to --source-db-schema" \
    "$V" export data -e "$ED" "${SRC[@]}" --source-db-schema public --disable-pb true
expect_refusal "a middle level in another schema: both of its edges are named" 2 \
    "2 partition\(s\) cross.*\"Mid\"\.lvl of deep\.root.*deep\.leaf of \"Mid\"\.lvl.*add \"Mid\" to --source-db-schema" \
    "$V" export schema -e "$ED" "${SRC[@]}" --source-db-schema deep

ALL=(--source-db-schema 'public,other,deep,"Mid"')
expect_refusal "a partition named in --table-list: refused naming its root (review-report F7)" 2 \
    "'pt_1' in --table-list is pt_1, a partition of pt: a partition is exported with its partitioned table, never alone hint: name the partitioned table \(its root\) instead" \
    "$V" export data -e "$ED" "${SRC[@]}" "${ALL[@]}" --table-list pt_1 --disable-pb true
expect_refusal "a partition of a partition, in --exclude-table-list: named with its tree's root" 2 \
    "'deep.leaf' in --exclude-table-list is deep.leaf, a partition of deep.root" \
    "$V" export data -e "$ED" "${SRC[@]}" "${ALL[@]}" --exclude-table-list deep.leaf --disable-pb true

ED2=$(new_export_dir)
check "export schema with every schema of the trees" "$V" export schema -e "$ED2" "${SRC[@]}" "${ALL[@]}"
check "import schema" "$V" import schema -e "$ED2" "${TGT[@]}"
check "export data" "$V" export data -e "$ED2" "${SRC[@]}" "${ALL[@]}" --disable-pb true
check "import data" "$V" import data -e "$ED2" "${TGT[@]}" --disable-pb true
assert_eq "other.pt_2's rows on the target" "100" "$(psql_as target yugabyte -c 'SELECT count(*) FROM other.pt_2')"
compare_databases source target
done_testing
