# The MariaDB source of the MySQL tests (test_mysql_offline.sh, test_mysql_schema.sh): one server,
# the PostgreSQL target, and the tables both start from; the items table and the float comparison
# the live and way-back tests share. Source after harness.sh and mariadb.sh.
#
#   mysql_fixture_start DB    MariaDB server "my" with database DB (mariadb_start) and the
#                             PostgreSQL cluster "target" (database yugabyte); ends the test
#                             when either does not start
#   mysql_fixture_sql         the DDL both tests build on (mysql_as my DB <<...): customers and
#                             orders (AUTO_INCREMENT, ENUM, SET, BIT, fractional TIMESTAMP, ON
#                             UPDATE, a unique key, a foreign key, a check, a stored generated
#                             column), all_types (a column of every type family, a virtual
#                             generated one), `Mixed Case` (names to quote), a procedure and a
#                             trigger. A test adds its own tables and ALTERs what it needs changed.
#   mysql_items_sql ROWS [b64] the table items of the live and way-back tests (a column of every
#                             type family: integers signed and unsigned, decimal, float/double,
#                             bit, char/text, binary/blob, date/time/datetime/timestamp, year,
#                             json, enum, set, a virtual column; with b64 a BIT(64) too) and ROWS rows
#   mysql_floats_equal MY PG  the files MY and PG (rows "id<TAB>float<TAB>double" read from MySQL,
#                             FLOAT cast to DOUBLE, and from PostgreSQL) hold the same binary
#                             values, FLOAT as a single
#   mysql_fixture_migrate JOBS  the offline migration of SRC into TGT through the real commands
#                             (export and import schema, export and import data with JOBS
#                             workers, the post-snapshot import into ED), then ANALYZE on the target

mysql_fixture_start() {
    mariadb_start my "$1" || { not_ok "start mariadbd"; done_testing; exit 1; }
    pg_start target yugabyte || { not_ok "start PostgreSQL"; done_testing; exit 1; }
    ok "mariadbd and PostgreSQL started"
}

mysql_items_sql() {
    local bcol= bval=
    if [ "${2:-}" = b64 ]; then
        bcol=' b64 BIT(64),'
        bval=' 18446744073709551615 - seq,'
    fi
    cat <<SQL
CREATE TABLE items (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT UNSIGNED, ii INT, iu INT UNSIGNED,
  bi BIGINT, bu BIGINT UNSIGNED,
  d DECIMAL(20,6), du DECIMAL(8,2) UNSIGNED, f FLOAT, dbl DOUBLE,
  b1 BIT(1), b12 BIT(12),$bcol
  c CHAR(8), vc VARCHAR(200), tx TEXT,
  bn BINARY(4), vb VARBINARY(32), bl BLOB,
  dt DATE, tm TIME, tm3 TIME(3), dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP NULL DEFAULT NULL,
  ts3 TIMESTAMP(3) NULL, y YEAR,
  j JSON, e ENUM('red','green','it''s'), st SET('a','b','c'),
  gen INT AS (ii + 1) VIRTUAL
);
INSERT INTO items (ti, tu, si, mi, ii, iu, bi, bu, d, du, f, dbl, b1, b12,${bcol:+ b64,} c, vc, tx, bn, vb, bl,
  dt, tm, tm3, dtm, dtm6, ts, ts3, y, j, e, st)
SELECT seq % 128, seq % 256, seq, seq * 7, -seq, seq * 1000, -seq * 100000, 18446744073709551615 - seq,
  seq / 7, seq / 3, seq / 9, seq / 11, seq % 2, seq % 4096,$bval CONCAT('c', seq), CONCAT('vc ü ', seq),
  REPEAT('t', seq % 50), X'00ff5c0a', UNHEX(LPAD(HEX(seq), 8, '0')), REPEAT(X'5c00', seq % 20),
  '2024-01-01' + INTERVAL seq DAY, SEC_TO_TIME(seq * 13 % 86000), '12:34:56.789',
  '2023-06-01 00:00:00' + INTERVAL seq MINUTE, '2023-06-01 00:00:00.123456' + INTERVAL seq SECOND,
  '2020-01-01 00:00:00' + INTERVAL seq HOUR, '2021-01-01 00:00:00.5' + INTERVAL seq SECOND,
  1901 + seq % 255, CONCAT('{"n": ', seq, ', "s": "x\\\\"y"}'), ELT(1 + seq % 3, 'red', 'green', 'it''s'),
  ELT(1 + seq % 4, '', 'a', 'a,b', 'a,b,c')
FROM seq_1_to_$1;
SQL
}

mysql_floats_equal() {
    python3 - "$1" "$2" <<'PY'
import struct, sys
def rows(t):
    out = []
    for line in t.strip("\n").split("\n"):
        f = line.split("\t")
        conv = lambda v: None if v in ("NULL", "") else float(v)
        out.append((int(f[0]), conv(f[1]), conv(f[2])))
    return out
a, b = rows(open(sys.argv[1]).read()), rows(open(sys.argv[2]).read())
single = lambda v: None if v is None else struct.unpack("f", struct.pack("f", v))[0]
ok = len(a) == len(b) and all(x[0] == y[0] and single(x[1]) == single(y[1]) and x[2] == y[2] for x, y in zip(a, b))
sys.exit(0 if ok else 1)
PY
}

mysql_fixture_migrate() {
    check "export schema" "$VOYAGER" export schema -e "$ED" "${SRC[@]}"
    check "import schema" "$VOYAGER" import schema -e "$ED" "${TGT[@]}"
    check "export data" "$VOYAGER" export data -e "$ED" "${SRC[@]}" --parallel-jobs "$1" --disable-pb
    check "import data" "$VOYAGER" import data -e "$ED" "${TGT[@]}" --parallel-jobs "$1" --disable-pb
    check "import schema --post-snapshot-import" "$VOYAGER" import schema -e "$ED" "${TGT[@]}" \
        --post-snapshot-import true
    psql_as target yugabyte -c "ANALYZE" >/dev/null
}

mysql_fixture_sql() {
    cat <<'SQL'
CREATE TABLE customers (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  email VARCHAR(255) NOT NULL,
  name VARCHAR(100) NOT NULL DEFAULT 'it''s',
  active TINYINT(1) NOT NULL DEFAULT 1,
  tier ENUM('free','pro','it''s') NOT NULL DEFAULT 'free',
  tags SET('a','b','c') DEFAULT 'a,b',
  flags BIT(4) DEFAULT b'0101',
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME NULL ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uq_email (email),
  KEY idx_name (name)
);
CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  customer_id INT UNSIGNED NOT NULL,
  total DECIMAL(12,2) NOT NULL DEFAULT 0.00,
  qty SMALLINT NOT NULL,
  amount DECIMAL(14,2) AS (total * qty) STORED,
  note TEXT,
  PRIMARY KEY (id),
  KEY idx_cust (customer_id, id DESC),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,
  CONSTRAINT chk_qty CHECK (qty > 0)
) AUTO_INCREMENT=1000;
CREATE TABLE all_types (
  id INT NOT NULL PRIMARY KEY,
  c_tinyint TINYINT, c_tinyint_u TINYINT UNSIGNED, c_bool BOOL,
  c_smallint SMALLINT, c_smallint_u SMALLINT UNSIGNED,
  c_mediumint MEDIUMINT, c_mediumint_u MEDIUMINT UNSIGNED,
  c_int INT, c_int_u INT UNSIGNED, c_int_zf INT(5) ZEROFILL,
  c_bigint BIGINT, c_bigint_u BIGINT UNSIGNED,
  c_decimal DECIMAL(20,6), c_numeric NUMERIC(5), c_decimal_u DECIMAL(6,2) UNSIGNED,
  c_float FLOAT, c_double DOUBLE,
  c_bit1 BIT(1), c_bit8 BIT(8), c_bit64 BIT(64),
  c_char CHAR(10), c_varchar VARCHAR(300), c_tinytext TINYTEXT, c_text TEXT, c_mediumtext MEDIUMTEXT,
  c_longtext LONGTEXT, c_latin VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
  c_binary BINARY(6), c_varbinary VARBINARY(64), c_tinyblob TINYBLOB, c_blob BLOB, c_mediumblob MEDIUMBLOB,
  c_longblob LONGBLOB,
  c_date DATE, c_time TIME, c_time3 TIME(3),
  c_datetime DATETIME, c_datetime6 DATETIME(6), c_timestamp TIMESTAMP NULL DEFAULT NULL, c_timestamp6 TIMESTAMP(6) NULL,
  c_year YEAR,
  c_json JSON,
  c_enum ENUM('x','y'), c_set SET('r','g','b'),
  c_uuid UUID, c_inet6 INET6, c_inet4 INET4,
  c_virtual INT AS (c_int + 1) VIRTUAL
);
CREATE TABLE `Mixed Case` (`Id` INT NOT NULL PRIMARY KEY, `Order` INT, `select` VARCHAR(5), KEY `Order` (`Order`));
CREATE PROCEDURE p_noop() SELECT 1;
CREATE TRIGGER trg_orders BEFORE UPDATE ON orders FOR EACH ROW SET NEW.qty = NEW.qty;
SQL
}

# The database "shop" of the offline tests (test_mysql_offline.sh, test_mysql_compare.sh): the
# servers started (mysql_fixture_start), mysql_fixture_sql plus tables of text, binary values,
# an empty AUTO_INCREMENT table and 200,000 rows, filled with every value family the tests
# compare; sets SRC and TGT (the command-line flags of both sides) and ED (a new export dir).
mysql_fixture_shop() {
    mysql_fixture_start shop

    { mysql_fixture_sql; cat <<'SQL'; } | mysql_as my shop || not_ok "create and fill the MySQL database"
CREATE TABLE texts (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  body TEXT,
  short VARCHAR(40),
  fixed CHAR(8)
);
CREATE TABLE bins (id INT PRIMARY KEY, data LONGBLOB, b4 BINARY(4), vb VARBINARY(10));
CREATE TABLE empty_ai (id INT AUTO_INCREMENT PRIMARY KEY, v INT);
CREATE TABLE big (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(200) NOT NULL, n INT);

INSERT INTO customers (email, name, active, tier, tags, flags, created_at, updated_at) VALUES
  ('a@x', 'Ann', 1, 'pro', 'a,c', b'1010', '2024-01-02 03:04:05.678', '2024-05-06 07:08:09'),
  ('b@x', 'Bob', 0, 'it''s', '', b'0000', '1999-12-31 23:59:59.999', NULL),
  ('c@x', 'Cé', 5, 'free', NULL, NULL, '2038-01-19 03:14:07.000', '1000-01-01 00:00:00');
INSERT INTO customers (email) VALUES ('d@x'), ('e@x');
DELETE FROM customers WHERE email = 'e@x';
INSERT INTO orders (customer_id, total, qty, note) VALUES (1, 10, 1, 'first'), (2, 200.5, 2, NULL), (1, 0.01, 30000, 'x');
INSERT INTO orders (customer_id, total, qty) VALUES (3, 1, 1);
DELETE FROM orders WHERE customer_id = 3;
INSERT INTO all_types (id, c_tinyint, c_tinyint_u, c_bool, c_smallint, c_smallint_u, c_mediumint, c_mediumint_u,
  c_int, c_int_u, c_int_zf, c_bigint, c_bigint_u, c_decimal, c_numeric, c_decimal_u, c_float, c_double,
  c_bit1, c_bit8, c_bit64, c_char, c_varchar, c_tinytext, c_text, c_mediumtext, c_longtext, c_latin,
  c_binary, c_varbinary, c_tinyblob, c_blob, c_mediumblob, c_longblob,
  c_date, c_time, c_time3, c_datetime, c_datetime6, c_timestamp, c_timestamp6, c_year, c_json,
  c_enum, c_set, c_uuid, c_inet6, c_inet4) VALUES
 (1, -128, 255, 1, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, 42,
  -9223372036854775808, 18446744073709551615, -12345678901234.123456, 99999, 9999.99, 3.14159, 2.718281828459045,
  b'1', b'10000001', b'1111111111111111111111111111111111111111111111111111111111111111',
  'abc', 'varchar ü', 'tiny', 'text', 'medium', 'long', 'Åsa',
  X'000102ff', X'00ff00', X'01', X'0203', X'', X'00',
  '1000-01-01', '838:59:59', '23:59:59.999', '9999-12-31 23:59:59', '2024-02-29 12:34:56.123456',
  '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999', 2155,
  '{"b": 1,   "a": [1, 2, {"c": null}], "u": "é\\u00e9"}',
  'y', 'r,b', '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1', '192.168.0.1'),
 (2, 127, 0, 0, 32767, 0, 8388607, 0, 2147483646, 0, 0,
  9223372036854775807, 0, 0.000001, -99999, 0, -1.5e-10, -1e300,
  b'0', b'00000000', b'0', '', '', '', '', '', '', '',
  X'', X'', X'', X'', X'', X'',
  '2024-12-31', '00:00:00', '-00:00:01.5', '2024-01-01 00:00:00', '2024-01-01 00:00:00.000001',
  '2024-06-30 23:59:59', '2024-06-30 23:59:59.5', 1901, '[]',
  'x', '', '00000000-0000-0000-0000-000000000000', '::1', '0.0.0.0'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- row 1's 838:59:59 and row 2's negative TIME do not fit PostgreSQL's time: set aside for the refusal test below
UPDATE all_types SET c_time = '12:00:00', c_time3 = '00:00:00.001' WHERE id IN (1, 2);
INSERT INTO texts (body, short, fixed) VALUES
  ('tab\there', 'nl\nthere', 'a'),
  ('back\\slash \\N \\t literal', 'cr\rhere', 'pad  '),
  ('multibyte: 日本語 ✓ emoji 😀 ß', 'ünïcödé', 'ab'),
  (NULL, NULL, NULL),
  ('', '', ''),
  ('line1\nline2\r\nline3\t\t|end\\', '\\', ' '),
  ('quotes '' " and |pipes| and ,commas,', 'semi;colon', 'x');
INSERT INTO bins VALUES (1, X'00000000', X'00010000', X'00'), (2, X'5c0a090d00ff', X'ffffffff', X''),
  (3, NULL, NULL, NULL), (4, REPEAT(X'00ff5c', 50000), X'5c5c5c5c', X'0a0a');
INSERT INTO `Mixed Case` VALUES (1, 10, 'sel'), (2, NULL, NULL);
INSERT INTO big (v, n) SELECT CONCAT('row ', seq, ' ', REPEAT('x', 150)), seq % 97 FROM seq_1_to_200000;
SQL

    SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT"
        --source-db-user voyager --source-db-name shop)
    TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
    ED=$(new_export_dir)
}
