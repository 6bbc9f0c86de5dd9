#!/bin/bash
# A command's first connection to "YugabyteDB" refused with 53300 ("sorry, too many clients
# already", what a busy tserver answers) is waited out under the retry policy, not a failed
# run; a wrong port still fails at once. Through the YugabyteDB-personality proxy
# (tests/lib/yb.sh: NOT a YugabyteDB server).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/faultproxy.sh"
. "$HARNESS_DIR/yb.sh"
V=$VOYAGER
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
SRC=("${SRC_FLAGS[@]}")
SRC[${#SRC[@]}-1]=public
yb_nodes_start target 1 || { not_ok "yb node"; done_testing; exit 1; }
YB=(--target-db-host 127.0.0.1 --target-db-port "$YB1_PROXY_PORT" --target-db-user voyager --target-db-name yugabyte)
psql_as source sourcedb -c "CREATE TABLE t (id int PRIMARY KEY, v text)" >/dev/null
ED=$(new_export_dir)
check "export schema" "$V" export schema -e "$ED" "${SRC[@]}"

# every new connection refused until the rule is cleared
proxy_rule yb1 "yb_too_many_clients always"
YB_VOYAGER_RETRY_TIMEOUT=120 "$V" import schema -e "$ED" "${YB[@]}" >"$TEST_TMP/is.out" 2>"$TEST_TMP/is.err" &
pid=$!
for _ in $(seq 1 150); do [ "$(proxy_fired yb1 'yb too_many_clients')" -ge 2 ] && break; sleep 0.2; done
n=$(proxy_fired yb1 'yb too_many_clients')
[ "$n" -ge 2 ] && ok "the first connection was refused with 53300 and tried again ($n refusals)" ||
    not_ok "53300 refusals seen while import schema waits" "$n" "$(tail -3 "$TEST_TMP/is.err")"
kill -0 "$pid" 2>/dev/null && ok "import schema is still waiting, not failed" || not_ok "import schema waits" "$(tail -3 "$TEST_TMP/is.err")"
proxy_clear yb1
wait_exit "$pid" 90
rc=$?
assert_eq "import schema succeeds once a slot is free" "$rc" 0
assert_match "the wait is said, with the knob that bounds it" \
    "too many clients.*waiting for a free connection slot.*YB_VOYAGER_RETRY_TIMEOUT" "$(cat "$TEST_TMP/is.err")"
assert_eq "the table was created" "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_tables WHERE tablename = 't'")" 1

# a server that stays full: the run gives up after the retry timeout, exit 5, naming the cause
proxy_rule yb1 "yb_too_many_clients always"
ED2=$(new_export_dir)
check "export schema (second export dir)" "$V" export schema -e "$ED2" "${SRC[@]}"
start=$(date +%s)
YB_VOYAGER_RETRY_TIMEOUT=3 expect_fail "import schema gives up when the server stays full" 5 "too many clients" \
    "$V" import schema -e "$ED2" "${YB[@]}"
took=$(( $(date +%s) - start ))
[ "$took" -ge 2 ] && ok "it waited about the retry timeout first (${took}s)" || not_ok "waited before giving up" "${took}s"
proxy_clear yb1

# a wrong port is not waited for: most likely a wrong flag
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(date +%s)
YB_VOYAGER_RETRY_TIMEOUT=60 expect_fail "a wrong port fails at once" 5 "$dead|refused" \
    "$V" import schema -e "$ED2" --target-db-host 127.0.0.1 --target-db-port "$dead" --target-db-user voyager --target-db-name yugabyte
took=$(( $(date +%s) - start ))
[ "$took" -lt 20 ] && ok "without waiting (${took}s)" || not_ok "a wrong port fails fast" "${took}s"

done_testing
