# The way back of a MySQL migration (test_mysql_fall_back.sh, test_mysql_fall_forward.sh): the
# tables, the workloads on either side, and the comparison of a MariaDB database with the
# target. Source after harness.sh and mariadb.sh; sources status.sh, e2e.sh, mysql_fixture.sh
# (the items table, the float comparison) and mysql_wayback_report.sh.
#
#   wb_tables_sql              the MySQL DDL and first rows: items (a column of every type family
#                              mysql_fixture covers: integers signed and unsigned, decimal,
#                              float/double, bit, char/text, binary/blob, date/time/datetime/
#                              timestamp, year, json, enum, set, a virtual column), accounts
#                              (AUTO_INCREMENT, a unique key, an ON UPDATE CURRENT_TIMESTAMP
#                              column), pairs (a composite key),
#                              `Mixed Case` (names to quote), nets (uuid, inet6, inet4)
#   wb_start [REPLICA_DB]      mariadbd "my" with database shop made by wb_tables_sql, and with
#                              REPLICA_DB a second, empty one "rep"; PostgreSQL "target"
#                              (database yugabyte), all stopped with the test (trap on EXIT);
#                              ends the test when a server does not start; sets SRC and TGT (the
#                              flags of both sides) and ED (a new export dir)
#   wb_grant_writer NAME DB    the voyager user may write DB (and ybvoyager_metadata) on NAME
#   wb_source_workload N SEED  MySQL statements: N changes in transactions of 1..4
#   wb_target_workload N SEED  PostgreSQL statements for the target: N changes over every type,
#                              timestamptz literals in other zones, key updates, deletes
#   wb_compare NAME DB WHAT    every table of NAME/DB equal to the target's: row counts and an
#                              md5 per column per row (normalised only where docs/DECISIONS.md
#                              "MySQL source" maps a value to another representation); FLOAT and
#                              DOUBLE as binary values; WHAT names the step in the test names

. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/e2e.sh"
. "$HARNESS_DIR/mysql_fixture.sh"
. "$HARNESS_DIR/mysql_wayback_report.sh"

wb_tables_sql() {
    mysql_items_sql 2000 b64
    cat <<'SQL'
CREATE TABLE accounts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  owner VARCHAR(50) NOT NULL,
  balance DECIMAL(14,2) NOT NULL DEFAULT 0,
  upd DATETIME(6) NOT NULL DEFAULT '2020-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP(6),
  UNIQUE KEY uq_owner (owner)
) AUTO_INCREMENT = 500;
CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(20) NOT NULL, v TEXT, PRIMARY KEY (a, b));
CREATE TABLE `Mixed Case` (`Id` INT NOT NULL PRIMARY KEY, `Order` INT, `select` VARCHAR(5));
CREATE TABLE nets (id INT NOT NULL PRIMARY KEY, u UUID, i6 INET6, i4 INET4);
INSERT INTO nets VALUES (1, '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1', '192.168.0.1'),
  (2, NULL, NULL, NULL), (3, 'ffffffff-ffff-4fff-bfff-ffffffffffff', '::ffff:1.2.3.4', '0.0.0.0');
INSERT INTO accounts (owner, balance) SELECT CONCAT('owner', seq), seq * 10 FROM seq_1_to_200;
INSERT INTO pairs SELECT seq, CONCAT('k', seq % 5), 'p' FROM seq_1_to_100;
INSERT INTO `Mixed Case` VALUES (1, 1, 'a'), (2, NULL, 'b');
SQL
}

_wb_cleanup() { proc_stop_all; _mariadb_cleanup; harness_cleanup; }

wb_start() {
    trap _wb_cleanup EXIT
    mariadb_start my shop || { not_ok "start mariadbd"; done_testing; exit 1; }
    if [ -n "${1:-}" ]; then
        mariadb_start rep "$1" || { not_ok "start the replica's mariadbd"; done_testing; exit 1; }
    fi
    pg_start target yugabyte || { not_ok "start PostgreSQL"; done_testing; exit 1; }
    ok "${1:+two }mariadbd${1:+ servers} and PostgreSQL started"
    wb_tables_sql | mysql_as my shop || not_ok "create and fill the MySQL database"
    SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT"
        --source-db-user voyager --source-db-name shop)
    TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
    ED=$(new_export_dir)
}

wb_grant_writer() {
    mysql_as "$1" "$2" <<SQL
GRANT INSERT, UPDATE, DELETE, ALTER ON \`$2\`.* TO 'voyager'@'127.0.0.1', 'voyager'@'localhost';
GRANT ALL ON ybvoyager_metadata.* TO 'voyager'@'127.0.0.1', 'voyager'@'localhost';
SQL
}

# _wb_workload_py N SEED <BODY: the python BODY of a workload, after what both start with: n and
# seed from the arguments, the random generator r, cols (items' columns but id and gen)
_wb_workload_py() {
    { cat <<'PY'; cat; } | python3 - "$1" "$2"
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(seed)
cols = "ti, tu, si, mi, ii, iu, bi, bu, d, du, f, dbl, b1, b12, b64, c, vc, tx, bn, vb, bl, dt, tm, tm3, dtm, dtm6, ts, ts3, y, j, e, st"
PY
}

wb_source_workload() {
    _wb_workload_py "$1" "$2" <<'PY'
def val(i):
    return ", ".join([str(i % 128), str(abs(i) % 256), str(i % 32768), str(abs(i) % 16777215), str(i),
        str(abs(i) * 7), str(i * 99991), str(abs(i) * 184467440737095), "'%d.%06d'" % (i, abs(i) % 1000000),
        "'%d.%02d'" % (abs(i) % 999999, abs(i) % 100), "%g" % (i / 7.0), repr(i / 13.0), "b'%d'" % (abs(i) % 2),
        "b'%s'" % format(abs(i) % 4096, 'b'), str(abs(i) * 1000003),
        r.choice(["'ab'", "NULL", "'x y'"]), r.choice(["'tab\\there'", "'nl\\nhere'", "'quote '' \" \\\\ back'", "'ü ✓ 😀'", "NULL"]),
        r.choice(["REPEAT('long ', 300)", "''", "NULL"]), r.choice(["X'00010203'", "X'5c5c0a0d'", "NULL"]),
        r.choice(["X''", "X'00ff'", "NULL"]), r.choice(["REPEAT(X'00ff5c', 100)", "NULL", "X'00'"]),
        r.choice(["'2024-02-29'", "'1000-01-01'", "'9999-12-31'", "NULL"]), r.choice(["'00:00:00'", "'23:59:59'", "NULL"]),
        r.choice(["'00:00:00.001'", "'10:11:12.5'", "NULL"]), r.choice(["'2024-01-02 03:04:05'", "NULL"]),
        r.choice(["'2024-01-02 03:04:05.000001'", "NULL"]), r.choice(["'1970-01-01 00:00:01'", "'2038-01-19 03:14:07'", "NULL"]),
        r.choice(["'2024-06-30 23:59:59.5'", "NULL"]), r.choice(["1901", "2155", "NULL"]),
        r.choice(["'{\"a\": [1, 2, {\"b\": null}]}'", "'[]'", "NULL"]), r.choice(["'red'", "'it''s'", "NULL"]),
        r.choice(["''", "'a,c'", "NULL"])])
i = 0
while i < n:
    print("START TRANSACTION;")
    for _ in range(r.randint(1, 4)):
        op = r.random()
        if op < 0.4:
            print("INSERT INTO items (%s) VALUES (%s);" % (cols, val(r.randint(-100000, 100000))))
        elif op < 0.65:
            print("UPDATE items SET vc = CONCAT('u', %d), j = '{\"u\": %d}', st = 'c', b12 = b'101', ts = '2001-02-03 04:05:06' WHERE id = %d;" % (i, i, r.randint(1, 2000 + i)))
        elif op < 0.75:
            print("DELETE FROM items WHERE id = %d;" % r.randint(1, 2000 + i))
        elif op < 0.9:
            print("INSERT INTO accounts (owner, balance) VALUES ('s%d-%d', %d.25) ON DUPLICATE KEY UPDATE balance = balance + 1;" % (seed, i, i))
        else:
            a = r.randint(1, 150)
            print("DELETE FROM pairs WHERE a = %d;" % a)
            print("INSERT INTO pairs VALUES (%d, 'k%d', 's%d') ON DUPLICATE KEY UPDATE v = 'dup';" % (a, i % 5, i))
        i += 1
    print("COMMIT;")
PY
}

# PostgreSQL on the target: the same families, written as the target's own types (bytea, bit(n),
# timestamptz in other zones, numeric(20) up to 2^64-1, json, the enum's and set's text).
wb_target_workload() {
    _wb_workload_py "$1" "$2" <<'PY'
def val(i):
    return ", ".join([str(i % 128), str(abs(i) % 256), str(i % 32768), str(abs(i) % 16777215), str(i),
        str(abs(i) * 7), str(i * 99991), r.choice(["18446744073709551615", "0", str(abs(i) * 184467440737095)]),
        "'%d.%06d'" % (i, abs(i) % 1000000), "'%d.%02d'" % (abs(i) % 999999, abs(i) % 100),
        r.choice(["%g" % (i / 7.0), "'1.17549435e-38'", "'3.4028235e+38'", "'-1.4e-45'", "'-0.1'"]),
        r.choice([repr(i / 13.0), "'1e308'", "'2.2250738585072014e-308'"]), "B'%d'" % (abs(i) % 2),
        "B'%s'" % format(abs(i) % 4096, '012b'), r.choice(["B'%s'" % format(abs(i) * 1000003, '064b'), "B'%s'" % ('1' * 64)]),
        r.choice(["'ab'", "NULL", "'x y'", "'full8ch '"]),
        r.choice([r"E'tab\there'", r"E'nl\nhere'", "'quote '' \" \\ back'", "'ü ✓ 😀'", "NULL", "'\\N'"]),
        r.choice(["repeat('long ', 300)", "''", "NULL"]),
        r.choice(["'\\x00010203'::bytea", "'\\x5c5c0a0d'::bytea", "'\\x00000000'::bytea", "NULL"]),
        r.choice(["''::bytea", "'\\x00ff'::bytea", "decode(md5('%d'), 'hex')" % i, "NULL"]),
        r.choice(["decode(repeat('00ff5c', 100), 'hex')", "NULL", "'\\x00'::bytea", "'\\x5c'::bytea"]),
        r.choice(["'2024-02-29'", "'1000-01-01'", "'9999-12-31'", "NULL"]),
        r.choice(["'00:00:00'", "'23:59:59'", "'12:00:01'", "NULL"]), r.choice(["'00:00:00.001'", "'10:11:12.5'", "NULL"]),
        r.choice(["'2024-01-02 03:04:05'", "'1000-01-01 00:00:00'", "NULL"]),
        r.choice(["'2024-01-02 03:04:05.000001'", "'2038-01-19 03:14:07.999999'", "NULL"]),
        r.choice(["'1970-01-01 05:30:01+05:30'", "'2038-01-19 03:14:07+00'", "'2024-03-31 01:30:00-09:30'", "'2001-02-03 04:05:06 America/Sao_Paulo'", "NULL"]),
        r.choice(["'2024-06-30 23:59:59.5+14'", "'1999-12-31 23:59:59.999-12'", "NULL"]), r.choice(["1901", "2155", "0", "NULL"]),
        r.choice(["'{\"a\": [1, 2, {\"b\": null}], \"c\": \"\\u00e9\"}'", "'[]'", "NULL", "'{ \"spaced\" :  %d }'" % i]),
        r.choice(["'red'", "'it''s'", "'green'", "NULL"]), r.choice(["''", "'a,c'", "'b'", "'a,b,c'", "NULL"])])
i = 0
print("SET TimeZone = 'Asia/Kolkata';")
while i < n:
    print("BEGIN;")
    for _ in range(r.randint(1, 4)):
        op = r.random()
        if op < 0.35:
            print("INSERT INTO items (%s) VALUES (%s);" % (cols, val(r.randint(-100000, 100000))))
        elif op < 0.55:
            print("UPDATE items SET vc = 't' || %d, j = '{\"t\": %d}', st = 'a,b', e = 'it''s', bl = '\\x0a00ff'::bytea, ts = '2010-10-10 10:10:10+02', b64 = B'%s', f = %s, bu = 18446744073709551615 WHERE id = (SELECT id FROM items ORDER BY id OFFSET %d LIMIT 1);" % (
                i, i, '10' * 32, r.choice(["0.1", "'-3.25e-5'"]), r.randint(0, 1500)))
        elif op < 0.62:
            print("UPDATE items SET ii = ii + 1 WHERE id = (SELECT id FROM items ORDER BY id OFFSET %d LIMIT 1);" % r.randint(0, 1500))
        elif op < 0.7:
            print("DELETE FROM items WHERE id = (SELECT id FROM items ORDER BY id OFFSET %d LIMIT 1);" % r.randint(0, 1500))
        elif op < 0.8:
            print("INSERT INTO accounts (owner, balance) VALUES ('t%d-%d', %d.75) ON CONFLICT (owner) DO UPDATE SET balance = accounts.balance + 1;" % (seed, i, i))
            print("UPDATE accounts SET owner = owner || 'x' WHERE id = (SELECT id FROM accounts ORDER BY id OFFSET %d LIMIT 1);" % r.randint(0, 150))
        elif op < 0.9:
            a = r.randint(1, 150)
            print("DELETE FROM pairs WHERE a = %d;" % a)
            print("INSERT INTO pairs VALUES (%d, 'k%d', 't%d') ON CONFLICT (a, b) DO UPDATE SET v = 'dup';" % (a, i % 5, i))
            print("UPDATE pairs SET b = b || 'y' WHERE a = %d AND b = 'k1';" % r.randint(1, 150))
        elif op < 0.95:
            print("INSERT INTO nets VALUES (%d, %s, '2001:db8::%x', '10.1.%d.%d') ON CONFLICT (id) DO UPDATE SET u = EXCLUDED.u, i6 = EXCLUDED.i6, i4 = NULL;" % (
                5000 + i, r.choice(["gen_random_uuid()", "'00000000-0000-0000-0000-000000000000'", "NULL"]), abs(i) % 65536, abs(i) % 256, i % 200 + 1))
        else:
            print("UPDATE \"mixed case\" SET \"order\" = coalesce(\"order\", 0) + 1, \"select\" = 'v' WHERE id = %d;" % r.randint(1, 2))
            print("INSERT INTO \"mixed case\" VALUES (%d, %d, 'n') ON CONFLICT (id) DO NOTHING;" % (100 + i, i))
        i += 1
    print("COMMIT;")
PY
}

_wb_compare_table() {
    local name=$1 db=$2 what=$3 my=$4 pg=$5 mykey=${6%%|*} pgkey=${6#*|}
    shift 6
    local mycols=() pgcols=() spec
    for spec in "$@"; do
        mycols+=("COALESCE(MD5(${spec%%|*}), 'null')")
        pgcols+=("coalesce(md5((${spec#*|})::text), 'null')")
    done
    local myq pgq a b
    myq="SET time_zone = '+00:00'; SELECT CONCAT_WS(' ', $(IFS=,; echo "${mycols[*]}")) FROM \`$my\` ORDER BY $mykey"
    pgq="SET TimeZone = 'UTC'; SELECT concat_ws(' ', $(IFS=,; echo "${pgcols[*]}")) FROM $pg ORDER BY $pgkey"
    a=$(mysql_as "$name" "$db" -e "$myq")
    b=$(psql_as target yugabyte -c "$pgq")
    assert_eq "$what: $my: row count" "$(mysql_as "$name" "$db" -e "SELECT COUNT(*) FROM \`$my\`")" \
        "$(psql_as target yugabyte -c "SELECT count(*) FROM $pg")"
    if [ "$a" == "$b" ] && [ -n "$a" ]; then
        ok "$what: $my: every row equal ($(echo "$a" | grep -c .) rows, $# columns)"
    else
        # the first rows that differ, with the columns that differ in them
        local names=() detail
        for spec in "$@"; do names+=("${spec%%|*}"); done
        detail=$(python3 - "$(IFS=$'\x1f'; echo "${names[*]}")" <(echo "$a") <(echo "$b") <<'PY'
import sys
names = sys.argv[1].split("\x1f")
a, b = open(sys.argv[2]).read().split("\n"), open(sys.argv[3]).read().split("\n")
shown = 0
for i in range(max(len(a), len(b))):
    x = (a[i] if i < len(a) else "").split(" ")
    y = (b[i] if i < len(b) else "").split(" ")
    if x != y and shown < 6:
        shown += 1
        cols = [names[k] if k < len(names) else "?" for k in range(max(len(x), len(y))) if (x[k] if k < len(x) else None) != (y[k] if k < len(y) else None)]
        print("row %d: columns %s differ" % (i + 1, ", ".join(cols)))
PY
)
        not_ok "$what: $my: every row equal" "$detail"
    fi
}

wb_compare() {
    local name=$1 db=$2 what=$3
    ts() { echo "DATE_FORMAT($1,'%Y-%m-%d %H:%i:%s.%f')|to_char($1,'YYYY-MM-DD HH24:MI:SS.US')"; }
    tm() { echo "TIME_FORMAT($1,'%H:%i:%s.%f')|to_char('2000-01-01'::date + $1,'HH24:MI:SS.US')"; }
    hx() { echo "HEX($1)|upper(encode($1,'hex'))"; }
    bits() { echo "LPAD(BIN($1),$2,'0')|$1"; }
    same() { local c; for c in "$@"; do echo "$c|$c"; done; }
    local C
    mapfile -t C < <(same id ti tu si mi ii iu bi bu d du; bits b1 1; bits b12 12; bits b64 64;
        same c vc tx; hx bn; hx vb; hx bl; same dt; tm tm; tm tm3; ts dtm; ts dtm6; ts ts; ts ts3; echo "y + 0|y"; same j e st gen)
    _wb_compare_table "$name" "$db" "$what" items items "id|id" "${C[@]}"
    mysql_as "$name" "$db" -e "SELECT id, CAST(f AS DOUBLE), dbl FROM items ORDER BY id" >"$TEST_TMP/f.my"
    psql_as target yugabyte -F $'\t' -c "SELECT id, f::float8, dbl FROM items ORDER BY id" >"$TEST_TMP/f.pg"
    if mysql_floats_equal "$TEST_TMP/f.my" "$TEST_TMP/f.pg"; then
        ok "$what: items: FLOAT and DOUBLE equal as binary values"
    else
        not_ok "$what: items: FLOAT and DOUBLE" "$(diff "$TEST_TMP/f.my" "$TEST_TMP/f.pg" | head -6)"
    fi
    # upd: ON UPDATE CURRENT_TIMESTAMP on MySQL, a plain column on the target: the writer's
    # updates must keep the target's value, not take the time they are applied
    _wb_compare_table "$name" "$db" "$what" accounts accounts "id|id" "id|id" "owner|owner" "balance|balance" "$(ts upd)"
    _wb_compare_table "$name" "$db" "$what" pairs pairs "a, b|a, b COLLATE \"C\"" "a|a" "b|b" "v|v"
    _wb_compare_table "$name" "$db" "$what" nets nets "id|id" "id|id" "CAST(u AS CHAR)|u" "CAST(i6 AS CHAR)|host(i6)" "CAST(i4 AS CHAR)|host(i4)"
    _wb_compare_table "$name" "$db" "$what" "Mixed Case" '"mixed case"' '`Id`|id' '`Id`|id' '`Order`|"order"' '`select`|"select"'
    assert_eq "$what: the json documents are byte for byte the target's" \
        "$(psql_as target yugabyte -c "SELECT coalesce(j::text, 'NULL') FROM items ORDER BY id" | md5sum)" \
        "$(mysql_as "$name" "$db" --raw -e "SELECT j FROM items ORDER BY id" | md5sum)"
}

# wb_wait_equal NAME DB SECONDS: until NAME/DB and the target agree on every table's row count
# and key and value sums (a cheap fingerprint; wb_compare checks every value after).
wb_wait_equal() {
    local name=$1 db=$2 secs=$3 i a b
    local myq="SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM items), (SELECT COALESCE(SUM(id), 0) FROM items), (SELECT COALESCE(SUM(ii), 0) FROM items),
        (SELECT COALESCE(SUM(CHAR_LENGTH(vc)), 0) FROM items), (SELECT COUNT(*) FROM accounts), (SELECT COALESCE(SUM(balance), 0) FROM accounts),
        (SELECT COALESCE(SUM(CHAR_LENGTH(owner)), 0) FROM accounts),
        (SELECT COUNT(*) FROM pairs), (SELECT COALESCE(SUM(CHAR_LENGTH(b)), 0) FROM pairs), (SELECT COUNT(*) FROM nets),
        (SELECT COUNT(*) FROM \`Mixed Case\`), (SELECT COALESCE(SUM(\`Order\`), 0) FROM \`Mixed Case\`))"
    local pgq="SELECT concat_ws(' ', (SELECT count(*) FROM items), (SELECT coalesce(sum(id), 0) FROM items), (SELECT coalesce(sum(ii), 0) FROM items),
        (SELECT coalesce(sum(length(vc)), 0) FROM items), (SELECT count(*) FROM accounts), (SELECT coalesce(sum(balance), 0) FROM accounts),
        (SELECT coalesce(sum(length(owner)), 0) FROM accounts),
        (SELECT count(*) FROM pairs), (SELECT coalesce(sum(length(b)), 0) FROM pairs), (SELECT count(*) FROM nets),
        (SELECT count(*) FROM \"mixed case\"), (SELECT coalesce(sum(\"order\"), 0) FROM \"mixed case\"))"
    for i in $(seq 1 $((secs * 2))); do
        a=$(mysql_as "$name" "$db" -e "$myq" 2>/dev/null)
        b=$(psql_as target yugabyte -c "$pgq" 2>/dev/null)
        [ -n "$a" ] && [ "$a" = "$b" ] && return 0
        sleep 0.5
    done
    echo "$name/$db: $a" >&2
    echo "target:   $b" >&2
    return 1
}
