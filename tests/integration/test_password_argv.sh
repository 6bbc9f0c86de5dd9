#!/bin/bash
# A password given by flag is blanked in the process's argv (what ps and
# /proc/PID/cmdline show to every local user) right after parsing, in both
# forms (--flag value, --flag=value), while the command still uses it: export
# schema authenticates with the flag alone (no environment variable) and
# pg_dump gets it too. --help recommends the environment variables.
. "$(dirname "$0")/../lib/harness.sh"
V=$VOYAGER
unset SOURCE_DB_PASSWORD TARGET_DB_PASSWORD SOURCE_REPLICA_DB_PASSWORD
SECRET='S3cret-in-argv!'

# A server that accepts and never answers: the command sits in its connection attempt.
python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(60)" >"$TEST_TMP/port" &
LISTENER=$!
for _ in $(seq 1 50); do [ -s "$TEST_TMP/port" ] && break; sleep 0.1; done
P=$(cat "$TEST_TMP/port")

# cmdline_of CMD...: the started command's /proc cmdline (NULs as spaces) a moment after it starts.
cmdline_of() {
    "$@" >/dev/null 2>&1 &
    local pid=$! i
    for i in $(seq 1 20); do
        sleep 0.1
        grep -q -- '--disable-pb' "/proc/$pid/cmdline" 2>/dev/null && break
    done
    sleep 0.5
    tr '\0' ' ' <"/proc/$pid/cmdline"
    kill -9 "$pid" 2>/dev/null # it waits in connect, where SIGTERM is only noted
    wait "$pid" 2>/dev/null
}
ED=$(new_export_dir)
SRC=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$P" --source-db-user u --source-db-name d)
line=$(cmdline_of "$V" export data -e "$ED" "${SRC[@]}" --source-db-password "$SECRET" --disable-pb true)
assert_match "the command ran with the flag" "--source-db-password" "$line"
assert_eq "--flag value: the password is not in the process's argv" "" "$(echo "$line" | grep -F -- "$SECRET")"
line=$(cmdline_of "$V" export data -e "$ED" "${SRC[@]}" "--source-db-password=$SECRET" --disable-pb true)
assert_match "the command ran with the flag (= form)" "--source-db-password=" "$line"
assert_eq "--flag=value: the password is not in the process's argv" "" "$(echo "$line" | grep -F -- "$SECRET")"
kill "$LISTENER" 2>/dev/null

# The parsed copy is what connects (and what pg_dump gets).
pg_start source sourcedb >/dev/null || exit 1
psql_as source sourcedb -c "CREATE TABLE public.t (id int PRIMARY KEY)" >/dev/null
ED=$(new_export_dir)
check "export schema authenticates with the flag's password alone" "$V" export schema -e "$ED" \
    --source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT" \
    --source-db-user voyager --source-db-name sourcedb --source-db-schema public --source-db-password "$VOYAGER_PW"
assert_eq "and never logs it" "" "$(grep -rF -- "$VOYAGER_PW" "$ED/logs" 2>/dev/null)"
for c in "export data" "import data" "import data to source-replica" "end migration"; do
    # shellcheck disable=SC2086
    assert_match "--help of $c recommends the environment variable" "password.*(better|environment).*\[env [A-Z_]+_DB_PASSWORD\]" \
        "$("$V" $c --help 2>&1 | grep -- '-db-password' | head -1)"
done
done_testing
