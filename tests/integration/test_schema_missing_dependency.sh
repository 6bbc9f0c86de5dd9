#!/bin/bash
# A missing dependency is a failure of import schema, not a wait for finalize (review-schema
# F5): only a statement naming an index, trigger or constraint (which the post-data run may
# create) waits. Here a COMMENT ON INDEX waits as it should, while a table whose type is in a
# schema the target lacks and a policy naming a role the target lacks fail at once: an error
# naming file and line without --continue-on-error, failed.sql with it; never "0 failed".
. "$(dirname "$0")/../lib/harness.sh"
V=$VOYAGER
pg_start source sourcedb || { not_ok "source cluster"; done_testing; exit 1; }
pg_start target yugabyte || { not_ok "target cluster"; done_testing; exit 1; }
psql_as source sourcedb <<'SQL' >/dev/null
CREATE ROLE reader;
CREATE SCHEMA ext;
CREATE EXTENSION hstore WITH SCHEMA ext;
CREATE TABLE public.t (id int PRIMARY KEY, v text);
CREATE INDEX t_v ON public.t (v);
COMMENT ON INDEX public.t_v IS 'idx comment';
CREATE POLICY p ON public.t FOR SELECT TO reader USING (true);
CREATE TABLE public.h (id int PRIMARY KEY, attrs ext.hstore);
INSERT INTO public.t VALUES (1, 'a');
INSERT INTO public.h VALUES (1, 'a=>1');
SQL
SRC=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT" --source-db-user voyager
    --source-db-name sourcedb --source-db-schema public)
T=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
ED=$(new_export_dir)
check "export schema" "$V" export schema -e "$ED" "${SRC[@]}" --comments-on-objects true

expect_refusal "a table whose type's schema is missing fails import schema" 5 \
    'tables/table.sql line [0-9]+ \(CREATE TABLE public.h .*schema "ext" does not exist \(SQLSTATE 3F000\)' \
    "$V" import schema -e "$ED" "${T[@]}"
grep -q "wait for finalize\|waits for finalize" "$LAST_OUT" "$LAST_ERR" && not_ok "nothing said to wait for finalize" ||
    ok "nothing said to wait for finalize"

check "import schema --continue-on-error" "$V" import schema -e "$ED" "${T[@]}" --continue-on-error true
out=$(cat "$LAST_OUT" "$LAST_ERR")
assert_match "the table's failure is a warning naming file and line" \
    'tables/table.sql line [0-9]+ failed, recorded in failed.sql: schema "ext" does not exist' "$out"
assert_match "the policy's failure is a warning naming file and line" \
    'policies/policy.sql line [0-9]+ failed, recorded in failed.sql: role "reader" does not exist' "$out"
assert_match "the summary counts them as failed" "import schema: .*, [2-9] failed" "$out"
assert_match "only the comment on the index waits for finalize" "1 statement waits for finalize" "$out"
grep -q 'CREATE TABLE public.h' "$ED/schema/failed.sql" && grep -q 'CREATE POLICY p ON public.t' "$ED/schema/failed.sql" &&
    ok "failed.sql holds the table and the policy" || not_ok "failed.sql holds the table and the policy" "$(cat "$ED/schema/failed.sql")"
grep -q 'COMMENT ON INDEX' "$ED/schema/failed.sql" && not_ok "the comment on the index is not in failed.sql" ||
    ok "the comment on the index is not in failed.sql"

# the operator provides what was missing and runs import schema again: the failed ones apply
psql_as target yugabyte -c "CREATE ROLE reader" -c "CREATE SCHEMA ext" -c "CREATE EXTENSION hstore WITH SCHEMA ext" >/dev/null
check "import schema again once the role and the type exist" "$V" import schema -e "$ED" "${T[@]}"
assert_match "nothing failed" ", 0 failed" "$(cat "$LAST_OUT")"
assert_eq "table and policy created" "1 1" "$(psql_as target yugabyte -c "SELECT (SELECT count(*) FROM pg_class
    WHERE oid = to_regclass('public.h')) || ' ' || (SELECT count(*) FROM pg_policy WHERE polname = 'p')")"
check "export data" "$V" export data -e "$ED" "${SRC[@]}" --disable-pb
check "import data" "$V" import data -e "$ED" "${T[@]}" --disable-pb
check "finalize-schema-post-data-import" "$V" finalize-schema-post-data-import -e "$ED" "${T[@]}"
assert_eq "the comment on the index applied by finalize" "idx comment" \
    "$(psql_as target yugabyte -c "SELECT obj_description('public.t_v'::regclass, 'pg_class')")"
done_testing
