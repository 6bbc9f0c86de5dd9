#!/bin/bash
# An offline import data run again after it finished, once the application writes to the
# target (an operator checking it is done, a scheduler rerunning the step), must not move the
# target's sequences back to the snapshot's values: the application's next insert would take
# an id its own rows hold. Restoring moves a sequence forward only (in the direction of its
# increment, a descending one too); one the target holds behind the snapshot still moves up.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
psql_as source sourcedb >/dev/null <<'SQL' || not_ok "source sequences"
CREATE SEQUENCE public.down_seq INCREMENT -1 START -1 MAXVALUE -1;
SELECT setval('public.down_seq', -100);
CREATE SEQUENCE public.behind_seq START 10;
SELECT setval('public.behind_seq', 300);
SQL
copy_schema source target || not_ok "schema copy"
conn_flags
ED=$(new_export_dir)
seqs() {
    psql_as target yugabyte -c "SELECT last_value || '|' || is_called FROM public.customers_id_seq" \
        -c "SELECT last_value || '|' || is_called FROM public.down_seq" \
        -c "SELECT last_value || '|' || is_called FROM public.behind_seq" | paste -sd' '
}
check "export data" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --disable-pb true
check "import data" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
assert_eq "the import restored the snapshot's sequence values" "200|true -100|true 300|true" "$(seqs)"

# The application starts on the target: five customers, a descending sequence moved on. A
# sequence put back by hand stands for one the target holds behind the snapshot.
psql_as target yugabyte >/dev/null <<'SQL' || not_ok "application writes"
INSERT INTO public.customers (name) SELECT 'app ' || g FROM generate_series(1, 5) g;
SELECT setval('public.down_seq', -150);
SELECT setval('public.behind_seq', 10, false);
SQL
check "import data run again after the application started" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
assert_eq "sequences ahead are left where the application moved them; one behind moves forward" \
    "205|true -150|true 300|true" "$(seqs)"
check "the application's next insert gets a free id" \
    psql_as target yugabyte -c "INSERT INTO public.customers (name) VALUES ('app next')"
assert_match "the log says which sequences were left" \
    'sequence "public"."customers_id_seq" of the target database is at or past the value to restore' \
    "$(cat "$ED"/logs/*import-data*.log)"
done_testing
