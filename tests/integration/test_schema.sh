#!/bin/bash
# export schema -> import schema -> import schema --post-snapshot-import on real clusters:
# a rich schema comes out identical (pg_dump --schema-only, normalised), and every
# bad input gets one clear error without damage.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/schema.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
start_clusters target || { not_ok "clusters"; done_testing; exit 1; }
rich_source || { not_ok "rich source"; done_testing; exit 1; }
conn_flags
schema_src_flags "$RICH_SCHEMAS"
tgt() { # tgt DBNAME: target flags for another database on the target cluster
    psql_as target postgres -c "CREATE DATABASE \"$1\" OWNER voyager" >/dev/null
    T=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name "$1")
}

# ---- the round trip ----
# a materialized view the source never filled stays unfilled on the target (--refresh-mviews)
psql_as source sourcedb -c "CREATE MATERIALIZED VIEW sales.zz_unfilled AS SELECT 1 AS x WITH NO DATA" >/dev/null
ED=$(new_export_dir)
check "export schema" "$V" export schema -e "$ED" "${SCHEMA_SRC[@]}" --comments-on-objects true
for f in schemas/schema.sql collations/collation.sql extensions/extension.sql types/type.sql domains/domain.sql \
    sequences/sequence.sql tables/table.sql tables/INDEXES_table.sql partitions/partition.sql \
    functions/function.sql procedures/procedure.sql views/view.sql mviews/mview.sql rules/rule.sql \
    policies/policy.sql triggers/trigger.sql comments/comment.sql; do
    [ -s "$ED/schema/$f" ] && ok "schema/$f written" || not_ok "schema/$f written"
done
assert_eq "ExportSchemaDone recorded" "true" "$(status_get "$ED" ExportSchemaDone)"
assert_eq "exported schemas recorded exactly" '["public", "sales", "MixedCase"]' "$(status_get "$ED" ExportedSchemas)"
grep -q '^CREATE TABLE "MixedCase"."Order" ($' "$ED/schema/tables/table.sql" && ok "case-sensitive names kept" ||
    not_ok "case-sensitive names kept"
grep -q 'CREATE TABLE public."user"' "$ED/schema/tables/table.sql" && ok "reserved names kept" || not_ok "reserved names kept"
grep -q 'FOREIGN KEY' "$ED/schema/tables/table.sql" && ok "foreign keys stay with tables" || not_ok "foreign keys stay with tables"
grep -q 'ATTACH PARTITION sales.orders_eu_2024 ' "$ED/schema/partitions/partition.sql" && ok "sub-partitions in partition.sql" ||
    not_ok "sub-partitions in partition.sql"
grep -q 'CREATE INDEX' "$ED/schema/tables/table.sql" && not_ok "no index in table.sql" || ok "no index in table.sql"
grep -q 'BEGIN ATOMIC' "$ED/schema/functions/function.sql" && grep -q 'a comment; with a semicolon' "$ED/schema/functions/function.sql" &&
    ok "function bodies kept whole" || not_ok "function bodies kept whole"
grep -qE '^(SET |\\restrict|SELECT pg_catalog.set_config)' -r "$ED/schema" && not_ok "no session statements in files" ||
    ok "no session statements in files"

expect_refusal "export again without --start-clean is refused" 3 "already holds an exported schema hint: run with --start-clean" \
    "$V" export schema -e "$ED" "${SCHEMA_SRC[@]}"
check "export again with --start-clean" "$V" export schema -e "$ED" "${SCHEMA_SRC[@]}" --comments-on-objects true --start-clean true

check "import schema" "$V" import schema -e "$ED" "${TGT_FLAGS[@]}"
assert_eq "no index or trigger before --post-snapshot-import" "0 0" "$(psql_as target yugabyte -c \
    "SELECT (SELECT count(*) FROM pg_indexes WHERE indexname IN ('customers_lower_name','bookings_room')) || ' ' ||
            (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal)")"
assert_eq "ImportSchemaDone recorded" "true" "$(status_get "$ED" ImportSchemaDone)"
check "import schema --post-snapshot-import --refresh-mviews" "$V" import schema -e "$ED" "${TGT_FLAGS[@]}" \
    --post-snapshot-import true --refresh-mviews true
assert_eq "materialized views populated" "t t" "$(psql_as target yugabyte -c \
    "SELECT string_agg(relispopulated::text, ' ' ORDER BY relname) FROM pg_class WHERE relkind = 'm' AND relname <> 'zz_unfilled'" | tr -d '\n' | sed 's/true/t/g')"
assert_eq "the one unfilled on the source is left unfilled" "false" "$(psql_as target yugabyte -c \
    "SELECT relispopulated FROM pg_class WHERE relname = 'zz_unfilled'" | sed 's/^f$/false/')"
assert_match "and import schema says so" "refreshed 2 materialized views; 1 left unfilled, as on the source" "$(cat "$LAST_OUT" "$LAST_ERR")"
assert_eq "PostSnapshotImportDone recorded" "true" "$(status_get "$ED" PostSnapshotImportDone)"
src_dump=$(normalized_schema source sourcedb)
assert_eq "target schema equals source (pg_dump --schema-only, normalised)" "$src_dump" "$(normalized_schema target yugabyte)"
check "--post-import-data alias, target from the status record (nothing left to apply)" "$V" import schema -e "$ED" --post-import-data true
assert_match "a re-run applies nothing again" " 0 statements applied, [1-9][0-9]* already applied" "$(cat "$LAST_OUT")"

grep -rqF "$VOYAGER_PW" "$ED/logs" "$ED/metainfo" && not_ok "the password is in no log or metadata" ||
    ok "the password is in no log or metadata"

# ---- comments are opt-in; --object-type-list on export ----
EDT=$(new_export_dir)
check "export only tables and indexes" "$V" export schema -e "$EDT" "${SCHEMA_SRC[@]}" --object-type-list TABLE,index
assert_eq "only those files written (partitions come with TABLE)" "partitions/partition.sql tables/INDEXES_table.sql tables/table.sql" \
    "$(cd "$EDT/schema" && find . -name '*.sql' | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')"
ED2=$(new_export_dir)
check "export schema without comments" "$V" export schema -e "$ED2" "${SCHEMA_SRC[@]}"
[ -e "$ED2/schema/comments/comment.sql" ] && not_ok "no comments file by default" || ok "no comments file by default"

# ---- bad input ----
schema_src_flags 'public,nope'
expect_fail "a missing source schema is named" 2 'schema "nope" does not exist in source database sourcedb' \
    "$V" export schema -e "$(new_export_dir)" "${SCHEMA_SRC[@]}"
schema_src_flags '"mixedcase"'
expect_fail "a quoted name is exact; its case-insensitive twin is the hint" 2 'did you mean "MixedCase"' \
    "$V" export schema -e "$(new_export_dir)" "${SCHEMA_SRC[@]}"
schema_src_flags 'public,mixedcase'
EDC=$(new_export_dir)
check "an unquoted name matches case-insensitively when one schema does (as upstream)" \
    "$V" export schema -e "$EDC" "${SCHEMA_SRC[@]}"
assert_eq "the schema is exported under its own name" '["public", "MixedCase"]' "$(status_get "$EDC" ExportedSchemas)"
psql_as source sourcedb -c 'CREATE SCHEMA "Twin"; CREATE SCHEMA "TWIN"' >/dev/null
schema_src_flags 'twin'
expect_refusal "an ambiguous unquoted name is refused, naming the candidates" 2 \
    "schema twin in --source-db-schema matches several schemas .*\\(\"TWIN\", \"Twin\"\\) hint: give the one you mean in double quotes, e.g. '\"TWIN\"'" \
    "$V" export schema -e "$(new_export_dir)" "${SCHEMA_SRC[@]}"
schema_src_flags 'Twin'
EDT2=$(new_export_dir)
check "an unquoted name that exists as typed is taken as it is" "$V" export schema -e "$EDT2" "${SCHEMA_SRC[@]}"
assert_eq "the exact name wins over its twins" '["Twin"]' "$(status_get "$EDT2" ExportedSchemas)"
psql_as source sourcedb -c 'DROP SCHEMA "Twin"; DROP SCHEMA "TWIN"' >/dev/null
schema_src_flags "$RICH_SCHEMAS"
expect_fail "missing export dir" 3 "nope" "$V" import schema -e "$TEST_TMP/nope" "${TGT_FLAGS[@]}"
expect_fail "import before export" 3 "run 'yb-voyager export schema' first" \
    "$V" import schema -e "$(new_export_dir)" "${TGT_FLAGS[@]}"
expect_refusal "unknown object type lists the valid ones" 2 "unknown object type 'tabel'.* hint: valid: SCHEMA, COLLATION" \
    "$V" import schema -e "$ED" "${TGT_FLAGS[@]}" --object-type-list table,tabel
expect_fail "include and exclude lists together are refused" 2 "only one of --object-type-list and --exclude-object-type-list" \
    "$V" import schema -e "$ED" "${TGT_FLAGS[@]}" --object-type-list table --exclude-object-type-list view
expect_fail "--refresh-mviews alone is refused" 2 "needs --post-snapshot-import true" \
    "$V" import schema -e "$ED" "${TGT_FLAGS[@]}" --refresh-mviews true
expect_fail "post-snapshot before the schema is imported" 3 "without --post-snapshot-import first" \
    "$V" import schema -e "$ED2" "${TGT_FLAGS[@]}" --post-snapshot-import true
expect_fail "finalize-schema-post-data-import before the schema is imported" 3 "without --post-snapshot-import first" \
    "$V" finalize-schema-post-data-import -e "$ED2" "${TGT_FLAGS[@]}"

# a schema name that is a pg_dump pattern's worst case: quotes, a dot, upper case
psql_as source sourcedb -c 'CREATE SCHEMA "We""ird.X"; CREATE TABLE "We""ird.X"."T" (a int)' -c 'CREATE SCHEMA "wexird_x"' \
    -c 'CREATE TABLE wexird_x.decoy (a int)' >/dev/null
schema_src_flags '"We""ird.X"'
EDW=$(new_export_dir)
check "export a schema named We\"ird.X" "$V" export schema -e "$EDW" "${SCHEMA_SRC[@]}"
assert_eq "exactly that schema, pattern characters taken literally" 'CREATE SCHEMA "We""ird.X";|CREATE TABLE "We""ird.X"."T" (' \
    "$(cat "$EDW"/schema/schemas/schema.sql "$EDW"/schema/tables/table.sql | grep '^CREATE' | tr '\n' '|' | sed 's/|$//')"
# export data reads the schema list as export schema does: a quoted name may hold "" and a comma
# (it split on every comma: "schema \"We\"\"ird.X\"\" does not exist", exit 4)
psql_as source sourcedb -c 'CREATE SCHEMA "x,y"; CREATE TABLE "x,y".t2 (a int); INSERT INTO "x,y".t2 VALUES (1)' \
    -c 'INSERT INTO "We""ird.X"."T" VALUES (7)' >/dev/null
schema_src_flags '"We""ird.X","x,y"'
EDD=$(new_export_dir)
check "export data takes the list export schema takes" "$V" export data -e "$EDD" "${SCHEMA_SRC[@]}" --disable-pb true
assert_eq "the tables of both schemas exported" 'We"ird.X.T,x,y.t2' \
    "$("$V" export data status -e "$EDD" --output-format json | python3 -c "import json,sys; print(','.join(sorted(t['table_name'] for t in json.load(sys.stdin))))")"
schema_src_flags "$RICH_SCHEMAS"

# pg_dump's own failure (a user without access to the schema) is reported with its message
psql_as source sourcedb -c "CREATE ROLE weak LOGIN PASSWORD 'weakpw'" >/dev/null
SOURCE_DB_PASSWORD=weakpw expect_fail "pg_dump failure is one clear line" 4 "pg_dump failed: .*permission denied" \
    "$V" export schema -e "$(new_export_dir)" --source-db-type postgresql --source-db-host 127.0.0.1 \
    --source-db-port "$SOURCE_PORT" --source-db-user weak --source-db-name sourcedb --source-db-schema sales

dead_port=$((SOURCE_PORT + 1))
while (exec 3<>"/dev/tcp/127.0.0.1/$dead_port") 2>/dev/null; do dead_port=$((dead_port + 1)); done
expect_fail "target unreachable" 5 "127.0.0.1.*$dead_port" \
    "$V" import schema -e "$ED2" --target-db-host 127.0.0.1 --target-db-port "$dead_port" --target-db-user voyager --target-db-name x

ED3=$(new_export_dir)
cp -r "$ED2/schema/." "$ED3/schema/"
printf 'CREATE VIEW public.broken AS SELEC 1;\n' >>"$ED3/schema/views/view.sql"
line=$(grep -n 'SELEC 1' "$ED3/schema/views/view.sql" | cut -d: -f1)
tgt syntax
expect_fail "a syntax error names file and line" 3 "views/view.sql line $line: syntax error at or near \"SELEC\"" \
    "$V" import schema -e "$ED3" "${T[@]}"
assert_eq "nothing applied on a syntax error" "0" "$(psql_as target syntax -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'sales'")"

# already exists: an error naming the way out, then --ignore-exist goes past it
tgt exists
psql_as target exists -c "SET ROLE voyager; CREATE SCHEMA sales; CREATE TABLE sales.bookings (id integer NOT NULL, room integer NOT NULL, during tsrange NOT NULL)"
expect_refusal "object already exists without --ignore-exist" 5 'tables/table.sql line [0-9]+ \(CREATE TABLE sales.bookings .*already exists.* hint: use --ignore-exist' \
    "$V" import schema -e "$ED2" "${T[@]}"
check "object already exists with --ignore-exist" "$V" import schema -e "$ED2" "${T[@]}" --ignore-exist true
check "finalize-schema-post-data-import (the docs' name for the post-snapshot import) after --ignore-exist" \
    "$V" finalize-schema-post-data-import -e "$ED2" "${T[@]}"
KEEP_DIFF=$TEST_TMP/exists.diff
diff <(normalized_schema target yugabyte | grep -v '^COMMENT ON') <(normalized_schema target exists | grep -v '^COMMENT ON') >"$KEEP_DIFF"
assert_eq "schema complete after --ignore-exist" "$(normalized_schema target yugabyte | grep -v '^COMMENT ON')" \
    "$(normalized_schema target exists | grep -v '^COMMENT ON')"

# --continue-on-error: failures go to schema/failed.sql, the rest is applied
ED4=$(new_export_dir)
cp -r "$ED2/schema/." "$ED4/schema/"
tgt cont
psql_as target cont -c "CREATE TABLE public.audit_log (other text)"
check "--continue-on-error goes on" "$V" import schema -e "$ED4" "${T[@]}" --continue-on-error true
assert_match "failed statement and error in failed.sql" 'relation "audit_log" already exists \(SQLSTATE 42P07\)' \
    "$(cat "$ED4/schema/failed.sql" 2>/dev/null)"
grep -q '^CREATE TABLE public.audit_log (' "$ED4/schema/failed.sql" && ok "failed.sql holds the statement" ||
    not_ok "failed.sql holds the statement"
assert_eq "the rest was applied" "1" "$(psql_as target cont -c "SELECT count(*) FROM pg_views WHERE viewname = 'happy_names'")"

# resume: a run stops on a failing statement; the fixed re-run does not re-apply what committed
ED5=$(new_export_dir)
cp -r "$ED2/schema/." "$ED5/schema/"
cp "$ED5/schema/views/view.sql" "$TEST_TMP/view.sql.good"
sed -i 's/FROM public.happy_customers/FROM public.no_such_view/' "$ED5/schema/views/view.sql"
tgt resume
expect_fail "a failing statement stops the import" 5 'views/view.sql line [0-9]+ \(CREATE VIEW public.happy_names.*no_such_view' \
    "$V" import schema -e "$ED5" "${T[@]}"
# the side effect: drop something the first run created; a re-apply would bring it back
psql_as target resume -c 'DROP SEQUENCE "MixedCase"."Seq"'
cp "$TEST_TMP/view.sql.good" "$ED5/schema/views/view.sql"
check "re-run after the fix" "$V" import schema -e "$ED5" "${T[@]}"
assert_eq "committed statements are not re-applied" "0" "$(psql_as target resume -c "SELECT count(*) FROM pg_class WHERE relname = 'Seq'")"
assert_eq "the fixed statement is applied" "1" "$(psql_as target resume -c "SELECT count(*) FROM pg_views WHERE viewname = 'happy_names'")"
psql_as target postgres -c "DROP DATABASE resume" >/dev/null
tgt resume
expect_fail "an empty target without --start-clean: progress says done, the objects are missing" 5 "does not exist" \
    "$V" import schema -e "$ED5" "${T[@]}" --post-snapshot-import true
check "--start-clean forgets progress (drops nothing)" "$V" import schema -e "$ED5" "${T[@]}" --start-clean true
assert_eq "after --start-clean everything runs again" "1" "$(psql_as target resume -c "SELECT count(*) FROM pg_class WHERE relname = 'Seq'")"

# --object-type-list, --straight-order; --target-db-schema is for Oracle/MySQL sources only (issue 12)
tgt partial
expect_fail "--target-db-schema with a PostgreSQL source: not applicable" 2 \
    "--target-db-schema is not applicable for a PostgreSQL source" \
    "$V" import schema -e "$ED2" "${T[@]}" --target-db-schema '"NewOne"' --yes
expect_refusal "--straight-order without --object-type-list is refused" 2 \
    "^error: --straight-order is used only with --object-type-list detail: .* hint: give --object-type-list, or remove it" \
    "$V" import schema -e "$ED2" "${T[@]}" --straight-order true --yes
expect_fail "--straight-order with --exclude-object-type-list is refused too" 2 "--straight-order is used only with --object-type-list" \
    "$V" import schema -e "$ED2" "${T[@]}" --exclude-object-type-list table --straight-order --yes
assert_eq "the refusals applied nothing" "0" "$(psql_as target partial -c "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public','sales')")"
# another database than the one ED2 recorded: confirmed with --yes
check "--object-type-list type,schema --straight-order" "$V" import schema -e "$ED2" "${T[@]}" \
    --object-type-list 'type,schema,extension' --straight-order true --yes
assert_eq "only those types applied" "3 0" "$(psql_as target partial -c \
    "SELECT (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname IN ('public','sales') AND t.typname IN ('mood','floatrange','address')) || ' ' ||
            (SELECT count(*) FROM pg_tables WHERE schemaname IN ('public','sales'))")"
assert_eq "refused --target-db-schema created nothing" "0" "$(psql_as target partial -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'NewOne'")"

# each file applies on its own: the session has pg_dump's settings and search_path = --target-db-schema
EDU=$(new_export_dir)
mkdir -p "$EDU/schema"
printf 'CREATE TABLE unqualified (a int);\n' >"$EDU/schema/uncategorized.sql"
tgt searchpath
check "unqualified names land in --target-db-schema" "$V" import schema -e "$EDU" "${T[@]}" --target-db-schema '"Tgt"'
assert_eq "table created in the target schema" "Tgt" "$(psql_as target searchpath -c "SELECT schemaname FROM pg_tables WHERE tablename = 'unqualified'")"
# the same text twice in a file is two statements, each applied once
printf 'CREATE TABLE twice (a int);\nDROP TABLE twice;\nCREATE TABLE twice (a int);\n' >>"$EDU/schema/uncategorized.sql"
check "repeated statements" "$V" import schema -e "$EDU" "${T[@]}" --target-db-schema '"Tgt"'
assert_match "both copies applied, the earlier statement not again" "3 statements applied, 1 already applied" "$(cat "$LAST_OUT")"
check "repeated statements, re-run" "$V" import schema -e "$EDU" "${T[@]}" --target-db-schema '"Tgt"'
assert_match "nothing applied twice" "0 statements applied, 4 already applied" "$(cat "$LAST_OUT")"

# SSL all the way to pg_dump: certificate login (no password), CA-verified server
pg_start sslsrc sslsrc && pg_enable_ssl sslsrc || not_ok "ssl cluster"
psql_as sslsrc sslsrc -c 'CREATE SCHEMA certs AUTHORIZATION certuser' \
    -c 'SET ROLE certuser; CREATE TABLE certs."Secret" (id int PRIMARY KEY)' >/dev/null
EDS=$(new_export_dir)
check "export schema over SSL with a client certificate" env -u SOURCE_DB_PASSWORD "$V" export schema -e "$EDS" \
    --source-db-type postgresql --source-db-host localhost --source-db-port "$SSLSRC_PORT" --source-db-user certuser \
    --source-db-name sslsrc --source-db-schema '"certs"' --source-ssl-mode verify-full \
    --source-ssl-root-cert "$SSLSRC_SSL_DIR/ca.crt" --source-ssl-cert "$SSLSRC_SSL_DIR/client.crt" \
    --source-ssl-key "$SSLSRC_SSL_DIR/client.key"
grep -q 'CREATE TABLE certs."Secret"' "$EDS/schema/tables/table.sql" 2>/dev/null && ok "pg_dump got the SSL settings" ||
    not_ok "pg_dump got the SSL settings"

# crash: kill -9 in the middle of a big import, then the same command finishes the job
psql_as source postgres -c "CREATE DATABASE big OWNER voyager" >/dev/null
psql_as source big -f - >/dev/null <<'SQL'
CREATE SCHEMA big;
SET ROLE voyager;
SELECT format('CREATE TABLE big.t%s (id serial PRIMARY KEY, v text UNIQUE, n int CHECK (n > 0))', i) FROM generate_series(1, 300) i \gexec
SQL
ED6=$(new_export_dir)
check "export a big schema" "$V" export schema -e "$ED6" --source-db-type postgresql --source-db-host 127.0.0.1 \
    --source-db-port "$SOURCE_PORT" --source-db-user voyager --source-db-name big --source-db-schema big
tgt bigcopy
"$V" import schema -e "$ED6" "${T[@]}" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    n=$(psql_as target bigcopy -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'big'")
    [ "${n:-0}" -gt 200 ] && break
    sleep 0.05
done
kill -9 $pid 2>/dev/null && ok "import killed mid-way" || not_ok "import killed mid-way (it finished first)"
wait $pid 2>/dev/null
# the killed client's backend may still be finishing its last statement; let it end first
for _ in $(seq 1 50); do
    [ "$(psql_as target postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bigcopy' AND application_name = 'yb-voyager'")" = 0 ] && break
    sleep 0.1
done
check "the same command resumes after kill -9" "$V" import schema -e "$ED6" "${T[@]}"
assert_match "resume skipped what was applied" "[1-9][0-9]* already applied" "$(cat "$LAST_OUT")"
big_dump() { "$PGBIN/pg_dump" -h "$TEST_TMP/$1" -p "$(cluster_port "$1")" -U postgres --schema-only --no-owner --no-privileges -n big "$2" | grep -v -e '^--' -e '^$' -e '^SET ' -e 'restrict '; }
assert_eq "resumed import equals the source" "$(big_dump source big)" "$(big_dump target bigcopy)"
[ -s "$KEEP_DIFF" ] && cat "$KEEP_DIFF"
done_testing
