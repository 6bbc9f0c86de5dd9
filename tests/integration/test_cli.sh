#!/bin/bash
# The binary's command line: help, version, flag errors, export dir checks,
# locks, and that passwords never reach the logs. No database needed.
. "$(dirname "$0")/../lib/harness.sh"

V=$VOYAGER

check "--version" "$V" --version
assert_match "--version prints the version" '^yb-voyager version [0-9]+\.[0-9]+\.[0-9]+' "$(cat "$LAST_OUT")"
# the commit it was built from, when the binary is this checkout's build
if built_from=$(git -C "$REPO_ROOT" rev-parse --short=12 HEAD 2>/dev/null) && [ "$V" -ef "$REPO_ROOT/yb-voyager" ] &&
    git -C "$REPO_ROOT" diff --quiet HEAD -- src Makefile VERSION; then
    assert_match "--version names the commit it was built from" "commit $built_from\\)\$" "$(cat "$LAST_OUT")"
fi

"$V" --help >"$TEST_TMP/help.txt"
for c in "export schema" "analyze-schema" "import schema" "export data" "export data from source" \
    "export data from target" "export data status" "import data" "import data to target" \
    "import data to source" "import data to source-replica" "import data status" "archive changes" \
    "initiate cutover to target" "initiate cutover to source" "initiate cutover to source-replica" \
    "cutover status" "get data-migration-report" "end migration"; do
    if grep -q "^  $c  " "$TEST_TMP/help.txt"; then ok "--help lists '$c'"; else not_ok "--help lists '$c'"; fi
    # shellcheck disable=SC2086
    if "$V" $c --help >"$TEST_TMP/h.txt" 2>&1 && grep -q -- "--export-dir" "$TEST_TMP/h.txt"; then
        ok "'$c --help' exits 0 and lists --export-dir"
    else
        not_ok "'$c --help' exits 0 and lists --export-dir"
    fi
done
check "group help: 'export --help'" "$V" export --help
expect_fail "bare group needs a subcommand" 2 "'yb-voyager export' needs a subcommand" "$V" export

ED=$(new_export_dir)
expect_fail "unknown flag is named" 2 '^error: unknown flag: --bogus' "$V" export schema -e "$ED" --bogus
expect_fail "unknown command is named" 2 'unknown command "schemas"' "$V" export schemas
# yb-voyager's commands this build lacks are named as such (exit 6), not "unknown"
expect_fail "import data file: not built yet" 6 "'yb-voyager import data file' is not built yet" \
    "$V" import data file --export-dir "$ED" --data-dir /nonexistent --file-table-map t.csv:t
expect_fail "assess-migration: not built yet" 6 "'yb-voyager assess-migration' is not built yet" \
    "$V" assess-migration --export-dir "$ED"
expect_fail "a misspelt subcommand is still refused as such" 2 'unexpected argument "fil"' "$V" import data fil
check "yb-voyager version (upstream's command)" "$V" version
assert_match "'version' prints what --version prints" '^yb-voyager version [0-9]+\.[0-9]+\.[0-9]+' "$(cat "$LAST_OUT")"
expect_fail "missing required flag is named" 2 'required flag --export-dir not set' "$V" import data status
expect_fail "flag without its value" 2 'flag needs an argument: --export-dir' "$V" analyze-schema --export-dir
expect_fail "bad integer" 2 'invalid value "ten" for --parallel-jobs' "$V" import data -e "$ED" --parallel-jobs ten
expect_fail "bad boolean" 2 'invalid value "perhaps" for --start-clean' "$V" export schema -e "$ED" --start-clean perhaps
expect_fail "bad choice" 2 'expected one of postgresql\|oracle\|mysql' "$V" export schema -e "$ED" --source-db-type sybase
expect_fail "stray argument" 2 'unexpected argument "oops"' "$V" export schema -e "$ED" oops
expect_fail "end migration names every missing backup flag at once" 2 'required flags --backup-data-files, --backup-log-files, --save-migration-reports not set' \
    "$V" end migration -e "$ED" --backup-schema-files true
expect_fail "config file missing" 2 'cannot open config file /nonexistent.yaml' "$V" export schema --config-file /nonexistent.yaml
printf 'export-dir: %s\nexport-schema:\n  parallel-jobz: 3\n' "$ED" >"$TEST_TMP/typo.yaml"
expect_fail "config file typo is named" 2 "key 'parallel-jobz' in section 'export-schema'" \
    "$V" export schema --config-file "$TEST_TMP/typo.yaml"

# Export dir checks: each a one-line error, exit 3, nothing created.
expect_fail "missing export dir" 3 "export directory $TEST_TMP/nope does not exist; create it first" \
    "$V" archive changes -e "$TEST_TMP/nope" --delete
[ ! -e "$TEST_TMP/nope" ] && ok "missing export dir is not created" || not_ok "missing export dir is not created"
touch "$TEST_TMP/afile"
expect_fail "export dir that is a file" 3 "is not a directory" "$V" archive changes -e "$TEST_TMP/afile" --delete
if [ "$(id -u)" = 0 ]; then
    mkdir -m 0755 "$TEST_TMP/ro"
    expect_fail "export dir not writable (other user)" 3 "is not writable" \
        runuser -u postgres -- "$V" archive changes -e "$TEST_TMP/ro" --delete
fi
[ "$(wc -l <"$LAST_ERR")" = 1 ] && ok "export dir error is one line" || not_ok "export dir error is one line" "$(cat "$LAST_ERR")"

# The layout is created before a command looks at its own flags.
expect_fail "a command's own bad flag value is named" 2 "--move-to $TEST_TMP/nodir: no such directory" \
    "$V" archive changes -e "$ED" --move-to "$TEST_TMP/nodir"
for d in schema data metainfo reports logs temp; do
    [ "$(stat -c %a "$ED/$d")" = 700 ] && ok "layout: $d/ is 0700" || not_ok "layout: $d/ is 0700"
done
[ -s "$ED/metainfo/meta.db" ] && ok "meta.db created" || not_ok "meta.db created"
[ -s "$ED/logs/yb-voyager-archive-changes.log" ] && ok "log file per command" || not_ok "log file per command"
uuid1=$(python3 -c "import sqlite3,json,sys; print(json.loads(sqlite3.connect(sys.argv[1]).execute('select record from migration_status').fetchone()[0])['MigrationUUID'])" "$ED/metainfo/meta.db")
"$V" archive changes -e "$ED" --move-to "$TEST_TMP/nodir" 2>/dev/null
uuid2=$(python3 -c "import sqlite3,json,sys; print(json.loads(sqlite3.connect(sys.argv[1]).execute('select record from migration_status').fetchone()[0])['MigrationUUID'])" "$ED/metainfo/meta.db")
assert_match "migration UUID recorded" '^[0-9a-f-]{36}$' "$uuid1"
assert_eq "migration UUID stable across commands" "$uuid1" "$uuid2"

# Lock: a second copy of the same command is refused while the first runs;
# a lock left by a killed process is taken over.
bash -c 'exec 9>"$1"; flock 9; echo $$ >&9; exec sleep 30' _ "$ED/.archive-changes.lck" &
holder=$!
sleep 0.3
expect_fail "second copy of a command is refused" 3 "another 'yb-voyager archive changes' .* is running" \
    "$V" archive changes -e "$ED" --delete
kill -9 $holder 2>/dev/null
wait $holder 2>/dev/null
echo 999999 >"$ED/.archive-changes.lck"
expect_fail "stale lock of a dead process is taken over" 2 "no such directory" \
    "$V" archive changes -e "$ED" --move-to "$TEST_TMP/nodir"
grep -q "took over the lock .* left by pid 999999" "$ED/logs/yb-voyager-archive-changes.log" &&
    ok "takeover is logged" || not_ok "takeover is logged"

# Passwords never reach logs, whether given by flag, config file or environment.
secret="S3cret-$RANDOM-pw"
printf 'export-dir: %s\nsource:\n  db-password: %s\n' "$ED" "$secret-cfg" >"$TEST_TMP/pw.yaml"
SOURCE_DB_PASSWORD="$secret-env" "$V" export schema -e "$ED" --source-db-password "$secret" \
    --source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port 1 --source-db-user u \
    --source-db-name d >/dev/null 2>&1
"$V" export schema --config-file "$TEST_TMP/pw.yaml" --source-db-password="$secret" >/dev/null 2>&1
if grep -rq "$secret" "$ED"; then not_ok "no password in the export dir" "$(grep -rl "$secret" "$ED")"; else ok "no password in the export dir"; fi
grep -q -- "--source-db-password \*\*\*\*\*\*\*\*" "$ED/logs/yb-voyager-export-schema.log" &&
    ok "password flag is masked in the logged command line" || not_ok "password flag is masked in the logged command line"

done_testing
