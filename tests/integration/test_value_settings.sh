#!/bin/bash
# Values keep their meaning whatever DateStyle, IntervalStyle, TimeZone and
# extra_float_digits the source and the target database default to (ALTER
# DATABASE ... SET, as a European installation might have): the snapshot and the
# live changes (keys of those types included) arrive unchanged. Without fixed
# session settings 2024-03-04 was written as 04/03/2024 and read back as
# 2024-04-03, and 0.1+0.2 lost its last digits, all with exit 0.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null && pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
ED=$(new_export_dir)
# How this script itself writes and reads values: the same on both sides.
PIN="-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c TimeZone=UTC -c extra_float_digits=3"
SCHEMA_SQL="
CREATE TABLE vals(id int PRIMARY KEY, d date, ts timestamptz, tsn timestamp, tz timetz, iv interval,
                  f8 float8, f4 float4, m money, arr date[]);
CREATE TABLE keyed(d date, ts timestamptz, iv interval, v text, PRIMARY KEY (d, ts, iv));
ALTER TABLE vals REPLICA IDENTITY FULL;
ALTER TABLE keyed REPLICA IDENTITY FULL;
"
for c in source:sourcedb target:yugabyte; do
    psql_as "${c%%:*}" "${c#*:}" -c "$SCHEMA_SQL" >/dev/null || not_ok "schema on ${c%%:*}"
done
row() { # ID DAY: a row whose every value depends on the session settings to print
    echo "($1, '2024-03-$2', '2024-03-$2 10:00:00.123456+00', '2024-03-$2 23:59:59', '10:00:00+03',
           '-1 day -2 hours 3.5 seconds', 0.1::float8 + 0.2::float8, 0.1::float4 * 3, 12.34,
           ARRAY['2024-03-$2'::date, '2024-12-01'])"
}
PGOPTIONS=$PIN psql_as source sourcedb -c "INSERT INTO vals VALUES $(row 1 04), $(row 2 05)" \
    -c "INSERT INTO keyed VALUES ('2024-03-04', '2024-03-04 10:00+00', '-1 day -2 hours', 'snap'),
                                 ('2024-01-02', '2024-01-02 00:30+00', '1 mon -3 days', 'snap')" >/dev/null
psql_as source sourcedb -c "ALTER DATABASE sourcedb SET DateStyle = 'SQL, DMY'" \
    -c "ALTER DATABASE sourcedb SET IntervalStyle = 'sql_standard'" \
    -c "ALTER DATABASE sourcedb SET TimeZone = 'Asia/Kolkata'" \
    -c "ALTER DATABASE sourcedb SET extra_float_digits = 0" >/dev/null
psql_as target yugabyte -c "ALTER DATABASE yugabyte SET DateStyle = 'Postgres, MDY'" \
    -c "ALTER DATABASE yugabyte SET IntervalStyle = 'iso_8601'" \
    -c "ALTER DATABASE yugabyte SET TimeZone = 'America/Los_Angeles'" \
    -c "ALTER DATABASE yugabyte SET extra_float_digits = -5" >/dev/null
assert_eq "the source database prints day first" "04/03/2024" "$(psql_as source sourcedb -c "SELECT d FROM vals WHERE id = 1")"

live_start_exporter
check "snapshot exported" status_wait "$ED" ExportDataDone 60
check "export data streams" wait_streaming
live_start_importer
for i in $(seq 1 300); do
    [ "$(status_get "$ED" ImportDataDone)" = true ] && break
    kill -0 "$IMP_PID" 2>/dev/null || break
    sleep 0.2
done
assert_eq "snapshot imported" true "$(status_get "$ED" ImportDataDone)"
assert_eq "snapshot: the date keeps its month" "2024-03-04" \
    "$(PGOPTIONS=$PIN psql_as target yugabyte -c "SELECT d FROM vals WHERE id = 1")"

# Live changes, formatted by the walsender and applied by key (date, timestamptz, interval).
PGOPTIONS=$PIN psql_as source sourcedb -c "INSERT INTO vals VALUES $(row 3 06), $(row 4 07)" \
    -c "UPDATE vals SET d = '2024-05-01', iv = iv - interval '1 day 1 second' WHERE id = 1" \
    -c "DELETE FROM vals WHERE id = 2" \
    -c "INSERT INTO keyed VALUES ('2024-03-08', '2024-03-08 23:30+00', '-2 days 3 hours', 'live')" \
    -c "UPDATE keyed SET v = 'updated' WHERE d = '2024-03-04'" \
    -c "UPDATE keyed SET ts = ts + interval '1 hour' WHERE d = '2024-01-02'" \
    -c "DELETE FROM keyed WHERE v = 'live'" \
    -c "INSERT INTO keyed VALUES ('2024-03-09', '2024-03-09 01:00+00', '-1 day', 'live')" >/dev/null
for i in $(seq 1 300); do
    n=$(queue_events "$ED" source_db_exporter)
    [ "${n:-0}" -ge 9 ] && [ "$(live_applied)" = "$n" ] && break
    sleep 0.2
done
assert_eq "every change applied" "$(queue_events "$ED" source_db_exporter)" "$(live_applied)"

check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 60
assert_eq "export data exits 0 after the end of stream" 0 "$?"
wait_exit "$IMP_PID" 60
assert_eq "import data exits 0 after the end of stream" 0 "$?"
PGOPTIONS=$PIN compare_databases source target
assert_eq "live: a changed key found its row" "updated" \
    "$(PGOPTIONS=$PIN psql_as target yugabyte -c "SELECT v FROM keyed WHERE d = '2024-03-04'")"
assert_eq "live: the double keeps its last digits" "0.30000000000000004" \
    "$(PGOPTIONS=$PIN psql_as target yugabyte -c "SELECT f8 FROM vals WHERE id = 3")"
done_testing
