#!/bin/bash
# import schema into a target that already holds the schema (review-schema F1): with
# --ignore-exist, and on a resume after a crash between a statement's commit and its progress
# record, an ALTER TABLE ... ATTACH PARTITION that is already attached ("is already a
# partition", 42809) and a text search configuration that exists (23505 on the catalogue's
# unique indexes) count as existing objects. The same codes for other reasons stay errors.
. "$(dirname "$0")/../lib/harness.sh"
V=$VOYAGER
pg_start source sourcedb || { not_ok "source cluster"; done_testing; exit 1; }
pg_start target yugabyte || { not_ok "target cluster"; done_testing; exit 1; }
psql_as source sourcedb <<'SQL' >/dev/null
CREATE TABLE public.ev (id int NOT NULL, k text NOT NULL) PARTITION BY LIST (k);
CREATE TABLE public.ev_a PARTITION OF public.ev FOR VALUES IN ('a');
CREATE TABLE public.ev_b PARTITION OF public.ev FOR VALUES IN ('b');
CREATE TEXT SEARCH CONFIGURATION public.cfg (PARSER = pg_catalog."default");
ALTER TEXT SEARCH CONFIGURATION public.cfg ADD MAPPING FOR asciiword WITH simple;
SQL
SRC=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT" --source-db-user voyager
    --source-db-name sourcedb --source-db-schema public)
tgt() { # tgt DBNAME: a new database on the target cluster
    psql_as target postgres -c "CREATE DATABASE \"$1\" OWNER voyager" >/dev/null
    T=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name "$1")
}
# 2 partitions, their ATTACH PARTITION, CREATE and ALTER TEXT SEARCH CONFIGURATION ... ADD MAPPING
KIND_SQL="SELECT count(*) FROM schema_import_progress WHERE state = 'done' AND
    (file = 'partitions/partition.sql' OR file = 'uncategorized.sql')"

ED1=$(new_export_dir)
check "export schema" "$V" export schema -e "$ED1" "${SRC[@]}"
grep -c 'ATTACH PARTITION' "$ED1/schema/partitions/partition.sql" | grep -qx 2 && ok "two ATTACH PARTITION exported" ||
    not_ok "two ATTACH PARTITION exported" "$(cat "$ED1/schema/partitions/partition.sql")"
tgt db1
check "import schema" "$V" import schema -e "$ED1" "${T[@]}"

check "same export dir, --start-clean --ignore-exist" "$V" import schema -e "$ED1" "${T[@]}" --start-clean true \
    --ignore-exist true
assert_match "every statement counted as existing, none failed" " 0 statements applied, .* [1-9][0-9]* skipped \(already existed\), 0 failed" \
    "$(cat "$LAST_OUT")"
[ -e "$ED1/schema/failed.sql" ] && not_ok "no failed.sql" "$(cat "$ED1/schema/failed.sql")" || ok "no failed.sql"

ED2=$(new_export_dir)
check "export schema into a fresh export dir" "$V" export schema -e "$ED2" "${SRC[@]}"
check "fresh export dir, --ignore-exist into the same target" "$V" import schema -e "$ED2" "${T[@]}" --ignore-exist true
assert_match "nothing failed" " 0 statements applied, .* 0 failed" "$(cat "$LAST_OUT")"
assert_eq "the partitions are still attached once" "ev_a ev_b" "$(psql_as target db1 -c \
    "SELECT string_agg(inhrelid::regclass::text, ' ' ORDER BY 1) FROM pg_inherits WHERE inhparent = 'public.ev'::regclass")"

# a crash between the commit on the target and the progress record: those statements are
# "started" in meta.db and exist on the target; the resume counts them as its own
ED3=$(new_export_dir)
check "export schema for the resume" "$V" export schema -e "$ED3" "${SRC[@]}"
tgt db3
check "import schema" "$V" import schema -e "$ED3" "${T[@]}"
n=$(sqlite3 "$ED3/metainfo/meta.db" "$KIND_SQL")
assert_eq "partition and text search statements recorded done" "6" "$n"
sqlite3 "$ED3/metainfo/meta.db" "UPDATE schema_import_progress SET state = 'started' WHERE
    file = 'partitions/partition.sql' OR file = 'uncategorized.sql'"
check "resume after a crash before the progress record (no --ignore-exist)" "$V" import schema -e "$ED3" "${T[@]}"
assert_match "the started statements are counted as existing" " 0 statements applied, .* 6 skipped \(already existed\), 0 failed" \
    "$(cat "$LAST_OUT")"
assert_eq "all recorded done" "6" "$(sqlite3 "$ED3/metainfo/meta.db" "$KIND_SQL")"

# an ATTACH PARTITION that fails for another reason stays an error: the parent is not partitioned
# (42P17), or the child is a partition of another table (42809, like "already attached")
fresh_export() { ED4=$(new_export_dir) && "$V" export schema -e "$ED4" "${SRC[@]}" >/dev/null; }
fresh_export || not_ok "export schema"
tgt db4
psql_as target db4 -c "CREATE TABLE public.ev (id int NOT NULL, k text NOT NULL)" >/dev/null
expect_refusal "ATTACH PARTITION to a table that is not partitioned stays an error under --ignore-exist" 5 \
    'partitions/partition.sql line [0-9]+ \(ALTER TABLE ONLY public.ev ATTACH PARTITION .*is not partitioned' \
    "$V" import schema -e "$ED4" "${T[@]}" --ignore-exist true
fresh_export || not_ok "export schema"
tgt db5
psql_as target db5 <<'SQL' >/dev/null
CREATE TABLE public.other (id int NOT NULL, k text NOT NULL) PARTITION BY LIST (k);
CREATE TABLE public.ev_a PARTITION OF public.other FOR VALUES IN ('a');
SQL
expect_refusal "a partition attached to another table stays an error under --ignore-exist" 5 \
    'partitions/partition.sql line [0-9]+ \(ALTER TABLE ONLY public.ev ATTACH PARTITION public.ev_a .*is already a partition' \
    "$V" import schema -e "$ED4" "${T[@]}" --ignore-exist true
done_testing
