#!/bin/bash
# import schema into "YugabyteDB" through the YugabyteDB-personality proxy (tests/lib/yb.sh:
# NOT a YugabyteDB server): DDL failing with YugabyteDB's "schema version mismatch",
# "conflicts with higher priority transaction" and "Restart read required" is run again, as
# upstream does, and the schema ends complete.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/faultproxy.sh"
. "$HARNESS_DIR/yb.sh"
V=$VOYAGER
export YB_VOYAGER_RETRY_TIMEOUT=60
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
SRC=("${SRC_FLAGS[@]}")
SRC[${#SRC[@]}-1]=public
yb_nodes_start target 1 || { not_ok "yb node"; done_testing; exit 1; }
YB=(--target-db-host 127.0.0.1 --target-db-port "$YB1_PROXY_PORT" --target-db-user voyager --target-db-name yugabyte)
ED=$(new_export_dir)
check "export schema" "$V" export schema -e "$ED" "${SRC[@]}"

proxy_rule yb1 "yb_error schema_mismatch match=^CREATE.TABLE nth=2" "yb_error conflict match=^CREATE every=4" \
    "yb_error restart_read match=^CREATE nth=3"
check "import schema under schema version mismatch / conflicts / restart read" "$V" import schema -e "$ED" "${YB[@]}"
for k in schema_mismatch conflict restart_read; do
    n=$(proxy_fired yb1 "yb $k")
    [ "$n" -ge 1 ] && ok "injected $k $n times" || not_ok "injected $k" "$n"
done
assert_match "the statements were run again" "schema version mismatch.*retrying" "$(cat "$LAST_ERR" "$ED"/logs/*.log)"
tables() { psql_as "$1" "$2" -c "SELECT string_agg(table_schema || '.' || table_name || ':' || column_name, ',' ORDER BY table_schema, table_name, column_name)
    FROM (SELECT table_schema, table_name, column_name FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name <> 'yb_servers') c"; }
assert_eq "every table and column created" "$(tables source sourcedb)" "$(tables target yugabyte)"

done_testing
