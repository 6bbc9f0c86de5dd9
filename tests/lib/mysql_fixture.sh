# The MariaDB source of the MySQL tests (test_mysql_offline.sh, test_mysql_schema.sh): one server,
# the PostgreSQL target, and the tables both start from. Source after harness.sh and mariadb.sh.
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

mysql_fixture_start() {
    mariadb_start my "$1" || { not_ok "start mariadbd"; done_testing; exit 1; }
    pg_start target yugabyte || { not_ok "start PostgreSQL"; done_testing; exit 1; }
    ok "mariadbd and PostgreSQL started"
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
