#!/bin/bash
# import data --start-clean without --truncate-tables asks before loading into a
# non-empty table. When the emptiness query itself fails (here: a target user
# that may INSERT but not SELECT), the answer is unknown, not "empty": the
# import stops with an error naming the table (exit 5) and loads nothing; once
# the user may read the table, the confirmation is asked as usual (and refused
# without a terminal), and with --truncate-tables the target ends equal.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null && pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
psql_as source sourcedb -c "CREATE TABLE public.t (id int PRIMARY KEY, v text);
    INSERT INTO public.t SELECT g, 'row ' || g FROM generate_series(1, 500) g" >/dev/null
copy_schema source target || exit 1
psql_as target yugabyte -c "INSERT INTO public.t VALUES (100000, 'already on the target')" >/dev/null
pwlit=${VOYAGER_PW//\'/\'\'}
psql_as target yugabyte -c "CREATE ROLE writer LOGIN PASSWORD '$pwlit';
    GRANT CREATE ON DATABASE yugabyte TO writer; GRANT USAGE ON SCHEMA public TO writer;
    GRANT INSERT ON public.t TO writer" >/dev/null
ED=$(new_export_dir)
check "export data" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --disable-pb true
WRITER_FLAGS=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user writer --target-db-name yugabyte)
expect_refusal "a failed emptiness query stops the import" 5 \
    "cannot tell whether (public\.)?t is empty on the target database.*run the same command again" \
    "$V" import data -e "$ED" "${WRITER_FLAGS[@]}" --start-clean true --disable-pb true </dev/null
assert_eq "nothing was loaded" "1" "$(psql_as target yugabyte -c "SELECT count(*) FROM public.t")"
psql_as target yugabyte -c "GRANT SELECT ON public.t TO writer" >/dev/null
"$V" import data -e "$ED" "${WRITER_FLAGS[@]}" --start-clean true --disable-pb true </dev/null >"$LAST_OUT" 2>"$LAST_ERR"
assert_eq "readable and not empty: the confirmation is refused without a terminal (exit 3)" 3 "$?"
assert_eq "still nothing loaded" "1" "$(psql_as target yugabyte -c "SELECT count(*) FROM public.t")"
check "with --truncate-tables the import runs" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --start-clean true \
    --truncate-tables true --disable-pb true
compare_databases source target
done_testing
