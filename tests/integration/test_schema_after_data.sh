#!/bin/bash
# What pg_dump puts after the data waits for finalize-schema-post-data-import (review-schema
# F3, F3b, F4): NOT VALID check, domain and foreign-key constraints (the source has old rows
# that violate them) and FORCE ROW LEVEL SECURITY (which subjects the owner, who loads the
# data, to the policies). Target user: a non-superuser owning the database, so import data
# cannot turn off triggers and foreign keys. The data loads; finalize then creates them, still
# NOT VALID, as on the source.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/schema.sh"
V=$VOYAGER
pg_start source sourcedb || { not_ok "source cluster"; done_testing; exit 1; }
pg_start target postgres || { not_ok "target cluster"; done_testing; exit 1; }
psql_as source sourcedb <<'SQL' >/dev/null
CREATE TABLE public.t (id int PRIMARY KEY, qty int);
INSERT INTO public.t VALUES (1, -5), (2, 10);
ALTER TABLE public.t ADD CONSTRAINT qty_pos CHECK (qty > 0) NOT VALID;
COMMENT ON CONSTRAINT qty_pos ON public.t IS 'new rows only';
CREATE DOMAIN public.d AS int;
CREATE TABLE public.u (id int PRIMARY KEY, v public.d);
INSERT INTO public.u VALUES (1, -1);
ALTER DOMAIN public.d ADD CONSTRAINT d_pos CHECK (VALUE > 0) NOT VALID;
CREATE TABLE public.parent (id int PRIMARY KEY);
CREATE TABLE public.child (id int PRIMARY KEY, pid int);
INSERT INTO public.parent VALUES (1);
INSERT INTO public.child VALUES (1, 1), (2, 99);
ALTER TABLE public.child ADD CONSTRAINT child_fk FOREIGN KEY (pid) REFERENCES public.parent (id) NOT VALID;
CREATE TABLE public.forced (id int PRIMARY KEY, owner text);
ALTER TABLE public.forced ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.forced FORCE ROW LEVEL SECURITY;
CREATE POLICY mine ON public.forced USING (owner = current_user);
INSERT INTO public.forced VALUES (1, 'alice'), (2, 'bob');
SQL
pwlit=${VOYAGER_PW//\'/\'\'}
psql_as target postgres -c "CREATE ROLE imp LOGIN PASSWORD '$pwlit'" -c "CREATE DATABASE tdb OWNER imp" >/dev/null
psql_as target tdb -c "ALTER SCHEMA public OWNER TO imp" >/dev/null
SRC=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT" --source-db-user voyager
    --source-db-name sourcedb --source-db-schema public)
T=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user imp --target-db-name tdb)
ED=$(new_export_dir)
on_target() { psql_as target tdb -c "$1"; }
CONS_SQL="SELECT coalesce(string_agg(conname || '=' || convalidated, ' ' ORDER BY conname), '') FROM pg_constraint
    WHERE conname IN ('qty_pos', 'd_pos', 'child_fk')"

check "export schema" "$V" export schema -e "$ED" "${SRC[@]}" --comments-on-objects true
grep -q 'qty_pos CHECK ((qty > 0)) NOT VALID' "$ED/schema/tables/table.sql" && ok "NOT VALID check stays in table.sql" ||
    not_ok "NOT VALID check stays in table.sql"
check "import schema (non-superuser target user)" "$V" import schema -e "$ED" "${T[@]}"
assert_match "4 statements left for after the data" \
    "4 statements are left for finalize-schema-post-data-import, which applies them after the data" "$(cat "$LAST_OUT")"
assert_match "the comment on the NOT VALID constraint waits for it" "1 statement waits for finalize" "$(cat "$LAST_OUT")"
assert_eq "no NOT VALID constraint before the data" "" "$(on_target "$CONS_SQL")"
assert_eq "row level security enabled, not forced, before the data" "true false" \
    "$(on_target "SELECT relrowsecurity || ' ' || relforcerowsecurity FROM pg_class WHERE oid = 'public.forced'::regclass")"
check "import schema again" "$V" import schema -e "$ED" "${T[@]}"
assert_match "the re-run leaves them for finalize again" "4 statements are left for finalize" "$(cat "$LAST_OUT")"
assert_eq "still no NOT VALID constraint" "" "$(on_target "$CONS_SQL")"

check "export data" "$V" export data -e "$ED" "${SRC[@]}" --disable-pb
check "import data (rows that violate the NOT VALID constraints, FORCE RLS on the source)" \
    "$V" import data -e "$ED" "${T[@]}" --disable-pb
assert_eq "every row loaded" "2 1 2 1 2" "$(on_target "SELECT (SELECT count(*) FROM public.t) || ' ' ||
    (SELECT count(*) FROM public.u) || ' ' || (SELECT count(*) FROM public.child) || ' ' ||
    (SELECT count(*) FROM public.parent) || ' ' || (SELECT count(*) FROM public.forced)")"

check "finalize-schema-post-data-import" "$V" finalize-schema-post-data-import -e "$ED" "${T[@]}"
assert_eq "finalize creates the constraints, NOT VALID as on the source" "child_fk=false d_pos=false qty_pos=false" \
    "$(on_target "$CONS_SQL")"
assert_eq "row level security forced after the data" "true true" \
    "$(on_target "SELECT relrowsecurity || ' ' || relforcerowsecurity FROM pg_class WHERE oid = 'public.forced'::regclass")"
catalogue source sourcedb '^public$' | grep -E '^(constraint|class|comment|policy) ' >"$TEST_TMP/source.cat"
catalogue target tdb '^public$' | grep -E '^(constraint|class|comment|policy) ' >"$TEST_TMP/target.cat"
d=$(diff "$TEST_TMP/source.cat" "$TEST_TMP/target.cat")
[ -z "$d" ] && ok "constraints, tables, comments and policies equal the source's" || not_ok "target differs from source" "$d"
check "finalize again" "$V" finalize-schema-post-data-import -e "$ED" "${T[@]}"
assert_match "nothing applied twice" " 0 statements applied" "$(cat "$LAST_OUT")"
[ -e "$ED/schema/failed.sql" ] && not_ok "no failed.sql" "$(cat "$ED/schema/failed.sql")" || ok "no failed.sql"
done_testing
