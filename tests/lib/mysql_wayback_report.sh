# get data-migration-report and end migration after the way back into MySQL
# (test_mysql_fall_back.sh, test_mysql_fall_forward.sh). Sourced by mysql_way_back.sh; uses $V, $ED.
#
#   wb_report_check NAME DB DBTYPE FROM WHAT
#                                         the report, as a table and as JSON, shows for DBTYPE's rows
#                                         (source / source-replica) the changes imported per table
#                                         as NAME/DB's bookkeeping (ybvoyager_metadata) counts them,
#                                         and as many as the report's rows of the DB types FROM
#                                         ("target", "source target") exported; the snapshot rows
#                                         its batches loaded (when it has any) and FINAL ROW COUNT
#                                         as COUNT(*) of each MySQL table
#   wb_report_prompt NAME DB DBTYPE ENV WHAT
#                                         the report without NAME's password (ENV unset): with no
#                                         terminal, DBTYPE's FINAL ROW COUNT shown as '-' and a note
#                                         naming the flag; on a terminal, a no-echo prompt for it,
#                                         and the typed password gives the tables' COUNT(*)
#   wb_end_migration NAME DB ENV CODE WHAT [shared]
#                                         end migration with a wrong password in ENV (NAME's) fails
#                                         with exit CODE, the export dir and ybvoyager_metadata kept;
#                                         then it drops ybvoyager_metadata on NAME (said so) and the
#                                         target's, says there is none on any other MySQL database of
#                                         the migration, and leaves DB's tables; shared: another
#                                         migration's bookkeeping row is on NAME first, and it, its
#                                         table and the database stay (our other tables go)

# _wb_json_field JSON DBTYPE TABLE FIELD: one number of the report's JSON ('null' when none)
_wb_json_field() {
    jq -r --arg t "$3" --arg d "$2" --arg f "$4" \
        '.[] | select(.table == $t and .db_type == $d) | .[$f]' "$1"
}

wb_report_check() {
    local name=$1 db=$2 dbtype=$3 from=$4 what=$5 line tbl ins upd del t lower n f k sum exported
    check "get data-migration-report ($what)" "$V" get data-migration-report -e "$ED"
    local txt="$TEST_TMP/report.txt" json="$TEST_TMP/report.json"
    cp "$LAST_OUT" "$txt"
    check "get data-migration-report --output-format json ($what)" \
        "$V" get data-migration-report -e "$ED" --output-format json
    cp "$LAST_OUT" "$json"
    assert_eq "the report reaches the MySQL $dbtype without libpq ($what)" "" \
        "$(grep -iE "libpq|invalid packet|server closed the connection|^error" "$LAST_ERR" | head -3)"
    local counts
    counts=$(mysql_as "$name" "$db" -e "SELECT table_name, SUM(num_inserts), SUM(num_updates), SUM(num_deletes) \
        FROM ybvoyager_metadata.ybvoyager_imported_event_count_by_table GROUP BY table_name" | tr '\t' '|')
    local total=0
    while IFS='|' read -r tbl ins upd del; do
        [ -n "$tbl" ] || continue
        t=${tbl#*.}
        total=$((total + ins + upd + del))
        assert_eq "report JSON, $dbtype $t: imported inserts, updates, deletes as the MySQL bookkeeping ($what)" \
            "$ins $upd $del" \
            "$(_wb_json_field "$json" "$dbtype" "$t" imported_inserts) $(_wb_json_field "$json" "$dbtype" "$t" imported_updates) $(_wb_json_field "$json" "$dbtype" "$t" imported_deletes)"
        # the table form: the same three numbers in columns 8-10 of the table's line for dbtype
        line=$(awk -F'|' -v t="$t" -v d="$dbtype" '{
                n = $1; gsub(/^ +| +$/, "", n); sub(/^[^.]*\./, "", n); gsub(/"/, "", n)
                ty = $2; gsub(/^ +| +$/, "", ty)
                if (n == t && ty == d) { for (i = 8; i <= 10; i++) { gsub(/ /, "", $i); printf "%s%s", (i > 8 ? " " : ""), $i } }
            }' "$txt")
        assert_eq "report table, $dbtype $t: imported inserts, updates, deletes ($what)" "$ins $upd $del" "$line"
        # each change exported once is imported once: the exporters' counts agree
        exported=""
        for k in inserts updates deletes; do
            sum=0
            for f in $from; do
                n=$(_wb_json_field "$json" "$f" "$t" "exported_$k")
                [ "$n" = null ] || sum=$((sum + n))
            done
            exported="$exported${exported:+ }$sum"
        done
        assert_eq "report, $dbtype $t: imported as many changes as were exported from $from ($what)" \
            "$exported" "$ins $upd $del"
    done <<<"$counts"
    check "the MySQL bookkeeping counts changes imported into the $dbtype ($total, $what)" test "$total" -gt 0
    local snap
    snap=$(mysql_as "$name" "$db" -e "SELECT table_name, SUM(rows_imported) FROM \
        ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3 GROUP BY table_name" 2>/dev/null | tr '\t' '|')
    while IFS='|' read -r tbl n; do
        [ -n "$tbl" ] || continue
        assert_eq "report JSON, $dbtype $tbl: imported snapshot rows as the MySQL bookkeeping ($what)" \
            "$n" "$(_wb_json_field "$json" "$dbtype" "$tbl" imported_snapshot_rows)"
    done <<<"$snap"
    for t in $(mysql_as "$name" information_schema -e "SELECT REPLACE(TABLE_NAME, ' ', '%20') FROM TABLES \
        WHERE TABLE_SCHEMA = '$db' AND TABLE_TYPE = 'BASE TABLE'"); do
        t=${t//%20/ }
        lower=$(tr '[:upper:]' '[:lower:]' <<<"$t")
        n=$(mysql_as "$name" "$db" -e "SELECT COUNT(*) FROM \`$t\`")
        assert_eq "report JSON, $dbtype $lower: FINAL ROW COUNT is the MySQL table's COUNT(*) ($what)" \
            "$n" "$(_wb_json_field "$json" "$dbtype" "$lower" final_row_count)"
    done
}

wb_report_prompt() {
    local name=$1 db=$2 dbtype=$3 env=$4 what=$5 saved=${!4} flag t n
    flag="--$dbtype-db-password"
    unset "$env"
    "$V" get data-migration-report -e "$ED" --output-format json </dev/null >"$TEST_TMP/nopw.json" 2>"$TEST_TMP/nopw.err"
    assert_eq "report without the $dbtype password and no terminal: exit 0 ($what)" 0 "$?"
    assert_match "the note names $flag ($what)" "give $flag or $env" "$(cat "$TEST_TMP/nopw.err")"
    t=$(mysql_as "$name" information_schema -e "SELECT LOWER(TABLE_NAME) FROM TABLES \
        WHERE TABLE_SCHEMA = '$db' AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1 LIMIT 1")
    n=$(mysql_as "$name" "$db" -e "SELECT COUNT(*) FROM \`$t\`")
    assert_eq "no terminal: $dbtype $t FINAL ROW COUNT left out ($what)" null \
        "$(_wb_json_field "$TEST_TMP/nopw.json" "$dbtype" "$t" final_row_count)"
    (sleep 1; printf '%s\n' "$VOYAGER_PW") | script -qec "$(printf '%q ' "$V" get data-migration-report -e "$ED" \
        --output-format json)" /dev/null >"$TEST_TMP/tty.out" 2>&1
    assert_match "report on a terminal: prompted for the $dbtype password ($what)" \
        "Password to $dbtype database \(" "$(cat "$TEST_TMP/tty.out")"
    if grep -qF "$VOYAGER_PW" "$TEST_TMP/tty.out"; then not_ok "the password is not echoed ($what)"
    else ok "the password is not echoed ($what)"; fi
    cp "$ED/reports/data-migration-report.json" "$TEST_TMP/tty.json"
    assert_eq "the typed password gives $dbtype $t FINAL ROW COUNT ($what)" "$n" \
        "$(_wb_json_field "$TEST_TMP/tty.json" "$dbtype" "$t" final_row_count)"
    export "$env=$saved"
}

wb_end_migration() {
    local name=$1 db=$2 env=$3 code=$4 what=$5
    local before
    before=$(mysql_as "$name" information_schema -e "SELECT COUNT(*) FROM TABLES WHERE TABLE_SCHEMA = '$db'")
    expect_fail "end migration, the MySQL server refusing its password: exit $code, not cleaned ($what)" "$code" \
        "access denied for user" \
        env "$env=wrong" "$V" end migration -e "$ED" --backup-schema-files false \
        --backup-data-files false --backup-log-files false --save-migration-reports false --yes
    assert_match "end migration names the MySQL database it did not clean ($what)" \
        "the (source|source-replica) database was not cleaned" "$(cat "$LAST_ERR")"
    [ -s "$ED/metainfo/meta.db" ] && ok "export dir kept after the failure ($what)" ||
        not_ok "export dir kept after the failure ($what)"
    assert_eq "ybvoyager_metadata kept on the MySQL server after the failure ($what)" 1 \
        "$(mysql_as "$name" information_schema -e "SELECT COUNT(*) FROM SCHEMATA WHERE SCHEMA_NAME = 'ybvoyager_metadata'")"
    local other=00000000-0000-4000-8000-000000000042 chan=ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo
    [ "${6:-}" = shared ] && mysql_as "$name" information_schema -e "INSERT INTO $chan (migration_uuid, channel_no) VALUES ('$other', 0)"
    check "end migration ($what)" "$V" end migration -e "$ED" --backup-schema-files false \
        --backup-data-files false --backup-log-files false --save-migration-reports false --yes
    if [ "${6:-}" = shared ]; then
        assert_match "end migration keeps the bookkeeping table another migration uses ($what)" \
            "database: kept $chan: it holds another migration's rows.*kept database ybvoyager_metadata" \
            "$(cat "$LAST_OUT" "$LAST_ERR" | tr '\n' ' ')"
        assert_eq "the other migration's row stays ($what)" "$other" "$(mysql_as "$name" information_schema -e "SELECT migration_uuid FROM $chan")"
        assert_eq "no bookkeeping row of this migration is left ($what)" 0 \
            "$(mysql_as "$name" information_schema -e "SELECT COUNT(*) FROM TABLES WHERE TABLE_SCHEMA = 'ybvoyager_metadata' AND TABLE_NAME <> 'ybvoyager_import_data_event_channels_metainfo'")"
        mysql_as "$name" information_schema -e "DROP DATABASE ybvoyager_metadata"
    else
        assert_match "end migration says it dropped ybvoyager_metadata on the MySQL server ($what)" \
            "database: dropped database ybvoyager_metadata \(mysql\)" "$(cat "$LAST_OUT" "$LAST_ERR")"
    fi
    assert_eq "no ybvoyager_metadata database left on the MySQL server ($what)" 0 \
        "$(mysql_as "$name" information_schema -e "SELECT COUNT(*) FROM SCHEMATA WHERE SCHEMA_NAME = 'ybvoyager_metadata'")"
    assert_eq "the MySQL database's tables stay ($what)" "$before" \
        "$(mysql_as "$name" information_schema -e "SELECT COUNT(*) FROM TABLES WHERE TABLE_SCHEMA = '$db'")"
    assert_eq "no ybvoyager_metadata schema left on the target ($what)" 0 \
        "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'ybvoyager_metadata'")"
    assert_eq "no replication slot left on the target ($what)" 0 \
        "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_replication_slots")"
}
