#!/bin/bash
# MySQL schema to PostgreSQL: a MariaDB database with every type family, keys, indexes, foreign
# keys, checks, views, routines, a trigger, an event and AUTO_INCREMENT tables with rows is read
# by source/mysql/mysql_catalog (as user voyager, with only the exporter's grants), converted by
# source/mysql/mysql_ddl (the mysql_server_* unit tests), and the DDL is applied to a throwaway
# PostgreSQL 15 cluster, where every table, column type, index and constraint is checked, the
# identities continue after the AUTO_INCREMENT values, and the defaults and checks behave.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
. "$(dirname "$0")/../lib/mysql_fixture.sh"

mysql_fixture_start sourcedb

# What only export schema reads, on top of the tables test_mysql_offline.sh migrates: comments,
# prefix indexes, two indexes of one name on two tables, a zero-date default, a column check.
{ mysql_fixture_sql; cat <<'SQL'; } | mysql_as my sourcedb || not_ok "create the MySQL schema"
ALTER TABLE customers MODIFY name VARCHAR(100) NOT NULL DEFAULT 'it''s' COMMENT 'display name',
  DROP KEY idx_name, ADD KEY idx_name (name(20)), COMMENT 'who buys';
ALTER TABLE orders RENAME KEY idx_cust TO idx_name, ADD KEY note_prefix (note(10));
ALTER TABLE all_types DROP c_bit64, DROP c_inet4, MODIFY c_binary BINARY(16),
  ADD c_zero DATE NOT NULL DEFAULT '0000-00-00' AFTER c_date,
  ADD c_pos INT CHECK (c_pos >= 0) AFTER c_inet6;
CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, FULLTEXT KEY ft_body (body));
CREATE TABLE a_b (id INT PRIMARY KEY, c INT, KEY c (c));
CREATE TABLE a (id INT PRIMARY KEY, b_c INT, KEY b_c (b_c));
CREATE TABLE nopk (x INT);
CREATE VIEW big_orders AS
  SELECT o.id, o.total, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100;
CREATE VIEW top_orders AS SELECT id FROM big_orders WHERE total > 1000;
CREATE FUNCTION f_one() RETURNS INT DETERMINISTIC RETURN 1;
CREATE EVENT ev_cleanup ON SCHEDULE EVERY 1 DAY DO DELETE FROM docs WHERE id < 0;
INSERT INTO customers (email) VALUES ('a@x'), ('b@x'), ('c@x');
INSERT INTO orders (customer_id, total, qty) VALUES (1, 10, 1), (2, 200, 2);
SQL
assert_eq "AUTO_INCREMENT values on MySQL" "4 1002" \
    "$(mysql_as my sourcedb -e "SELECT GROUP_CONCAT(AUTO_INCREMENT ORDER BY TABLE_NAME SEPARATOR ' ')
        FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sourcedb' AND TABLE_NAME IN ('customers', 'orders')")"

ddl=$TEST_TMP/ddl
mkdir -p "$ddl"
mariadb_unit_tests my test_mysql_catalog 3 VOYAGER_TEST_DDL_DIR="$ddl"
for f in table.sql view.sql comment.sql INDEXES_table.sql issues.tsv; do
    [ -s "$ddl/$f" ] || not_ok "the unit test wrote $f"
done

# Applied in import schema's order: tables (foreign keys last), views, comments, then indexes.
for f in table.sql view.sql comment.sql INDEXES_table.sql; do
    check "PostgreSQL takes $f" psql_as target yugabyte -f "$ddl/$f"
done

assert_eq "every table, lower-cased, quoted only when needed" \
    "a a_b all_types customers docs mixed case nopk orders" \
    "$(psql_as target yugabyte -c "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")"
assert_eq "views" "big_orders top_orders" \
    "$(psql_as target yugabyte -c "SELECT string_agg(viewname, ' ' ORDER BY viewname) FROM pg_views WHERE schemaname = 'public'")"

coltypes() {
    psql_as target yugabyte -c "SELECT attname || ' ' || format_type(atttypid, atttypmod) ||
            CASE WHEN attnotnull THEN ' not null' ELSE '' END ||
            CASE attidentity WHEN 'd' THEN ' identity' ELSE '' END ||
            CASE attgenerated WHEN 's' THEN ' generated' ELSE '' END
        FROM pg_attribute WHERE attrelid = '$1'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
}
assert_eq "all_types: every column's type" "$(cat <<'EOF2'
id integer not null
c_tinyint smallint
c_tinyint_u smallint
c_bool smallint
c_smallint smallint
c_smallint_u integer
c_mediumint integer
c_mediumint_u integer
c_int integer
c_int_u bigint
c_int_zf bigint
c_bigint bigint
c_bigint_u numeric(20,0)
c_decimal numeric(20,6)
c_numeric numeric(5,0)
c_decimal_u numeric(6,2)
c_float real
c_double double precision
c_bit1 bit(1)
c_bit8 bit(8)
c_char character(10)
c_varchar character varying(300)
c_tinytext text
c_text text
c_mediumtext text
c_longtext text
c_latin character varying(20)
c_binary bytea
c_varbinary bytea
c_tinyblob bytea
c_blob bytea
c_mediumblob bytea
c_longblob bytea
c_date date
c_zero date not null
c_time time(0) without time zone
c_time3 time(3) without time zone
c_datetime timestamp(0) without time zone
c_datetime6 timestamp(6) without time zone
c_timestamp timestamp(0) with time zone
c_timestamp6 timestamp(6) with time zone
c_year smallint
c_json json
c_enum character varying(1)
c_set text
c_uuid uuid
c_inet6 inet
c_pos integer
c_virtual integer generated
EOF2
)" "$(coltypes all_types)"
assert_eq "customers and orders: types, identities, generated column" "$(cat <<'EOF2'
id bigint not null identity
email character varying(255) not null
name character varying(100) not null
active smallint not null
tier character varying(4) not null
tags text
flags bit(4)
created_at timestamp(3) with time zone not null
updated_at timestamp(0) without time zone
id bigint not null identity
customer_id bigint not null
total numeric(12,2) not null
qty smallint not null
amount numeric(14,2) generated
note text
EOF2
)" "$(coltypes customers; coltypes orders)"
assert_eq "\"Mixed Case\": names lower-cased, keywords quoted" "Id integer not null|Order integer|select character varying(5)" \
    "$(coltypes '"mixed case"' | sed 's/^id /Id /; s/^order /Order /' | paste -sd'|')"

assert_eq "indexes: prefixed with their table, unique in the schema" "$(cat <<'EOF2'
a_b_c
a_b_c_1
a_b_pkey
a_pkey
all_types_pkey
customers_idx_name
customers_pkey
customers_uq_email
docs_pkey
mixed case_order
mixed case_pkey
orders_idx_name
orders_note_prefix
orders_pkey
EOF2
)" "$(psql_as target yugabyte -c "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")"
assert_eq "index definitions keep column order, DESC and prefixes" \
    "CREATE INDEX orders_idx_name ON public.orders USING btree (customer_id, id DESC)|CREATE INDEX orders_note_prefix ON public.orders USING btree (\"left\"(note, 10))" \
    "$(psql_as target yugabyte -c "SELECT indexdef FROM pg_indexes WHERE tablename = 'orders' AND indexname NOT LIKE '%pkey' ORDER BY 1" | paste -sd'|')"

assert_eq "constraints: keys, foreign key with its rules, checks" "$(cat <<'EOF2'
all_types c_pos c (c_pos >= 0)
customers customers_uq_email u
orders chk_qty c (qty > 0)
orders fk_orders_customer f ON UPDATE RESTRICT ON DELETE CASCADE
EOF2
)" "$(psql_as target yugabyte -c "SELECT conrelid::regclass || ' ' || conname || ' ' || contype::text ||
        CASE contype WHEN 'c' THEN ' ' || pg_get_expr(conbin, conrelid)
                     WHEN 'f' THEN ' ON UPDATE ' || CASE confupdtype WHEN 'r' THEN 'RESTRICT' WHEN 'a' THEN 'NO ACTION' WHEN 'c' THEN 'CASCADE' ELSE confupdtype::text END ||
                                   ' ON DELETE ' || CASE confdeltype WHEN 'r' THEN 'RESTRICT' WHEN 'a' THEN 'NO ACTION' WHEN 'c' THEN 'CASCADE' ELSE confdeltype::text END
                     ELSE '' END
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype IN ('c', 'f', 'u')
      AND conname NOT LIKE '%\_check' ORDER BY 1")"
assert_eq "every primary key (all tables but nopk)" "7" \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype = 'p'")"
assert_eq "comments" "who buys|display name" \
    "$(psql_as target yugabyte -c "SELECT obj_description('customers'::regclass, 'pg_class') || '|' || col_description('customers'::regclass, 3)")"

# Identities continue after MySQL's AUTO_INCREMENT values; defaults and generated values as on MySQL.
assert_eq "the next customer id is MySQL's AUTO_INCREMENT (4), with the defaults" "4|it's|1|free|a,b|0101|true" \
    "$(psql_as target yugabyte -c "INSERT INTO customers (email) VALUES ('d@x')
        RETURNING id || '|' || name || '|' || active || '|' || tier || '|' || tags || '|' || flags || '|' || (created_at IS NOT NULL)")"
assert_eq "the next order id is MySQL's AUTO_INCREMENT (1002), amount generated" "1002|30.00" \
    "$(psql_as target yugabyte -c "INSERT INTO orders (customer_id, total, qty) VALUES (4, 10, 3) RETURNING id || '|' || amount")"
expect_fail "an enum refuses a value not among its members" 1 'violates check constraint' \
    psql_as target yugabyte -c "INSERT INTO customers (email, tier) VALUES ('e@x', 'gold')"
expect_fail "a set refuses a member it does not have" 1 'violates check constraint' \
    psql_as target yugabyte -c "INSERT INTO customers (email, tags) VALUES ('e@x', 'a,z')"
check "a set takes a subset of its members" psql_as target yugabyte -c "INSERT INTO customers (email, tags) VALUES ('f@x', 'c,a')"
expect_fail "TINYINT keeps its range on smallint" 1 'violates check constraint' \
    psql_as target yugabyte -c "INSERT INTO customers (email, active) VALUES ('e@x', 128)"
expect_fail "INT UNSIGNED stays unsigned on bigint" 1 'violates check constraint' \
    psql_as target yugabyte -c "INSERT INTO all_types (id, c_zero, c_int_u) VALUES (1, '2020-01-01', -1)"
check "BIGINT UNSIGNED takes 2^64-1" psql_as target yugabyte -c "INSERT INTO all_types (id, c_zero, c_bigint_u) VALUES (2, '2020-01-01', 18446744073709551615)"
expect_fail "the foreign key holds" 1 'violates foreign key constraint' \
    psql_as target yugabyte -c "INSERT INTO orders (customer_id, qty) VALUES (99, 1)"
assert_eq "views answer" "0" "$(psql_as target yugabyte -c "SELECT count(*) FROM top_orders")"

# What needs a hand is reported, not dropped.
issues=$(cat "$ddl/issues.tsv")
for want in 'COLUMN	customers.updated_at	ON UPDATE CURRENT_TIMESTAMP' 'INDEX	docs.ft_body	FULLTEXT' \
    'COLUMN	all_types.c_zero	.*zero date' 'COLUMN	all_types.c_virtual	.*STORED' 'TABLE	nopk	.*no primary key' \
    'PROCEDURE	p_noop	' 'FUNCTION	f_one	' 'TRIGGER	orders.trg_orders	' 'EVENT	ev_cleanup	' \
    'INDEX	customers.uq_email	.*case-insensitive'; do
    assert_match "reported: ${want//	/ }" "$want" "$issues"
done
done_testing
