/* analyze-schema: one test per rule of the catalogue, on SQL snippets, plus negatives. */
#include "testlib.h"

#include "core/util.h"
#include "schema/analyze/analyze.h"

#include <stdlib.h>

static analysis *run(const char *sql)
{
    analysis *a = an_new();
    an_add_sql(a, "schema/tables/table.sql", sql);
    an_run(a);
    return a;
}

static void dump(const analysis *a)
{
    for (size_t i = 0; i < an_issue_count(a); i++) {
        const an_issue *is = an_issue_at(a, i);
        fprintf(stderr, "    issue %s [%s] %s %s: %s (line %d)\n", is->rule, is->issue_type, is->object_type,
                is->object_name, is->reason, is->line);
    }
}

/* sql reports rule on object (exactly once), whatever else it reports. */
#define EXPECT_RULE(sql, rule, object)                                                             \
    do {                                                                                           \
        analysis *a_ = run(sql);                                                                   \
        size_t n_ = an_count_rule(a_, rule, object);                                               \
        if (n_ != 1)                                                                               \
            dump(a_);                                                                              \
        an_free(a_);                                                                               \
        CHECK_INT_EQ(n_, 1);                                                                       \
    } while (0)

#define EXPECT_NO_RULE(sql, rule)                                                                  \
    do {                                                                                           \
        analysis *a_ = run(sql);                                                                   \
        size_t n_ = an_count_rule(a_, rule, NULL);                                                 \
        if (n_ != 0)                                                                               \
            dump(a_);                                                                              \
        an_free(a_);                                                                               \
        CHECK_INT_EQ(n_, 0);                                                                       \
    } while (0)

#define EXPECT_CLEAN(sql)                                                                          \
    do {                                                                                           \
        analysis *a_ = run(sql);                                                                   \
        size_t n_ = an_issue_count(a_);                                                            \
        if (n_ != 0)                                                                               \
            dump(a_);                                                                              \
        an_free(a_);                                                                               \
        CHECK_INT_EQ(n_, 0);                                                                       \
    } while (0)

static const char *func(const char *body)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf),
             "CREATE TABLE public.t (id int PRIMARY KEY, d jsonb, x int);\n"
             "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$\nDECLARE v int; j jsonb;\nBEGIN\n%s\nEND\n$$;",
             body);
    return buf;
}

TEST(analyze_clean_schema_has_no_issue)
{
    EXPECT_CLEAN("CREATE SCHEMA app;\n"
                 "CREATE TYPE app.mood AS ENUM ('a', 'b');\n"
                 "CREATE TABLE app.customers (id bigint GENERATED ALWAYS AS IDENTITY, name text NOT NULL,\n"
                 "  email varchar(200), created timestamptz DEFAULT now(), score numeric(10,2), CHECK (score >= 0));\n"
                 "ALTER TABLE ONLY app.customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);\n"
                 "CREATE TABLE app.orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, total numeric);\n"
                 "ALTER TABLE ONLY app.orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id)\n"
                 "  REFERENCES app.customers(id) DEFERRABLE INITIALLY DEFERRED;\n"
                 "CREATE INDEX orders_customer_idx ON app.orders USING btree (customer_id);\n"
                 "CREATE INDEX customers_name_idx ON app.customers (lower(name));\n"
                 "CREATE TABLE app.sales (id int, d date, amount int, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);\n"
                 "CREATE TABLE app.sales_2024 PARTITION OF app.sales FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n"
                 "CREATE SEQUENCE app.s START 10;\n"
                 "CREATE VIEW app.v AS SELECT c.id, c.name FROM app.customers c WHERE c.score > 1;\n"
                 "CREATE MATERIALIZED VIEW app.mv AS SELECT count(*) AS n FROM app.orders;\n"
                 "CREATE FUNCTION app.total(c bigint) RETURNS numeric LANGUAGE plpgsql AS $$\n"
                 "DECLARE s numeric; BEGIN s := 0; SELECT sum(total) INTO s FROM app.orders WHERE customer_id = c;\n"
                 "  IF s > 10 THEN RAISE NOTICE 'big'; END IF; RETURN s; END $$;\n"
                 "CREATE FUNCTION app.add(a int, b int) RETURNS int LANGUAGE sql AS $$ SELECT a + b $$;\n"
                 "CREATE TRIGGER trg AFTER INSERT ON app.orders FOR EACH ROW EXECUTE FUNCTION app.total_trg();\n"
                 "CREATE POLICY p ON app.orders TO PUBLIC USING (true);\n"
                 "CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;\n"
                 "CREATE INDEX g ON app.orders USING gin (to_tsvector('simple', total::text));\n"
                 "COMMENT ON TABLE app.orders IS 'orders';\n"
                 "ALTER TABLE app.orders OWNER TO app;\n");
}

TEST(analyze_syntax_error_has_file_and_line)
{
    analysis *a = run("CREATE TABLE a (i int);\n\nCREATE TABLE b (i int,\n  j intt intt);\nCREATE TABLE c (i int);\n");
    size_t n = an_count_rule(a, "syntax_error", NULL);
    const an_issue *is = an_issue_at(a, 0);
    bool ok = n == 1 && is && is->line == 3 && strstr(is->reason, "at line 4: ") &&
              !strcmp(is->file_path, "schema/tables/table.sql") && !strcmp(is->issue_type, "unsupported_features") &&
              strstr(is->reason, "could not be analysed") && !strcmp(is->gh, "https://github.com/yugabyte/yb-voyager/issues/1625") &&
              strstr(is->reason, "syntax error");
    if (!ok)
        dump(a);
    an_free(a);
    CHECK(ok);
}

TEST(analyze_unlexable_file_keeps_what_comes_before)
{
    analysis *a = run("CREATE UNLOGGED TABLE a (i int);\nCREATE TABLE b (\n  i text DEFAULT 'oops);\n"
                      "CREATE UNLOGGED TABLE c (i int);\n");
    size_t n = an_issue_count(a);
    const an_issue *first = an_issue_at(a, 0), *err = an_issue_at(a, 1);
    bool ok = n == 2 && !strcmp(first->rule, "unlogged_table") && !strcmp(first->object_name, "a") &&
              !strcmp(err->rule, "syntax_error") && !strcmp(err->object_name, "b") && err->line == 2 &&
              strstr(err->reason, "at line 3: unterminated quoted string") &&
              strstr(err->reason, "the rest of the file, from line 4, cannot be read") &&
              !strcmp(err->sql, "CREATE TABLE b (\n  i text DEFAULT 'oops);");
    if (!ok)
        dump(a);
    an_free(a);
    CHECK(ok);
}

TEST(analyze_line_numbers_skip_comments)
{
    analysis *a = run("-- header\n\n/* block\n comment */\nCREATE UNLOGGED TABLE u (i int);\n");
    CHECK_INT_EQ(an_issue_count(a), 1);
    int line = an_issue_at(a, 0)->line;
    an_free(a);
    CHECK_INT_EQ(line, 5);
}

TEST(analyze_rule_stored_generated_columns)
{
    EXPECT_RULE("CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED);", "stored_generated_columns", "t");
    EXPECT_NO_RULE("CREATE TABLE t (a int GENERATED ALWAYS AS IDENTITY);", "stored_generated_columns");
}

TEST(analyze_rule_unlogged_table)
{
    EXPECT_RULE("CREATE UNLOGGED TABLE public.u (i int);", "unlogged_table", "public.u");
    EXPECT_RULE("ALTER TABLE public.u SET UNLOGGED;", "unlogged_table", "public.u");
}

TEST(analyze_rule_index_methods)
{
    EXPECT_RULE("CREATE INDEX gi ON t USING gist (r);", "unsupported_index_method", "gi ON t");
    EXPECT_RULE("CREATE INDEX bi ON t USING brin (r);", "unsupported_index_method", "bi ON t");
    EXPECT_RULE("CREATE INDEX si ON t USING spgist (r);", "unsupported_index_method", "si ON t");
    EXPECT_NO_RULE("CREATE INDEX hi ON t USING hash (r);", "unsupported_index_method");
}

TEST(analyze_rule_storage_parameters)
{
    EXPECT_RULE("CREATE TABLE t (i int) WITH (fillfactor = 70);", "storage_parameters", "t");
    EXPECT_RULE("CREATE INDEX i ON t (i) WITH (fillfactor = 70);", "storage_parameters", "i ON t");
    /* ALTER TABLE ... SET (...) is upstream's ALTER TABLE SET issue, not a second storage-parameters one. */
    EXPECT_RULE("ALTER TABLE t SET (autovacuum_enabled = false);", "alter_table_set", "t");
    EXPECT_NO_RULE("ALTER TABLE t SET (autovacuum_enabled = false);", "storage_parameters");
    EXPECT_RULE("ALTER TABLE ONLY t ADD CONSTRAINT t_pkey PRIMARY KEY (i) WITH (fillfactor = 80);",
                "storage_parameters", "t");
    EXPECT_RULE("CREATE MATERIALIZED VIEW mv WITH (fillfactor = 50) AS SELECT 1 AS a;", "storage_parameters", "mv");
}

TEST(analyze_rule_alter_table_variants)
{
    EXPECT_RULE("ALTER TABLE t ALTER COLUMN a SET (n_distinct = 10);", "alter_table_set_column_attribute", "t");
    EXPECT_RULE("ALTER TABLE t CLUSTER ON t_idx;", "alter_table_cluster_on", "t");
    EXPECT_RULE("ALTER TABLE t DISABLE RULE r;", "alter_table_disable_rule", "t");
}

TEST(analyze_rule_exclusion_constraint)
{
    EXPECT_RULE("CREATE TABLE r (room int, during tsrange, EXCLUDE USING gist (room WITH =, during WITH &&));",
                "exclusion_constraints", "r, constraint: (r_room_during_excl)");
    EXPECT_RULE("ALTER TABLE r ADD CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&);",
                "exclusion_constraints", "r, constraint: (no_overlap)");
}

TEST(analyze_rule_deferrable_constraint)
{
    EXPECT_RULE("CREATE TABLE t (i int, UNIQUE (i) DEFERRABLE INITIALLY DEFERRED);", "deferrable_constraints",
                "t, constraint: (t_i_key)");
    EXPECT_RULE("ALTER TABLE ONLY t ADD CONSTRAINT t_pk PRIMARY KEY (i) DEFERRABLE;", "deferrable_constraints",
                "t, constraint: (t_pk)");
    EXPECT_RULE("CREATE TABLE t (i int PRIMARY KEY DEFERRABLE);", "deferrable_constraints", "t, constraint: (t_pkey)");
    EXPECT_RULE("CREATE TABLE t (i int CONSTRAINT u UNIQUE INITIALLY DEFERRED);", "deferrable_constraints",
                "t, constraint: (u)");
    EXPECT_RULE("CREATE TABLE t (i int, j int, CONSTRAINT t_u UNIQUE (i, j) DEFERRABLE INITIALLY IMMEDIATE);",
                "deferrable_constraints", "t, constraint: (t_u)");
    EXPECT_RULE("ALTER TABLE t ADD UNIQUE (a, b) DEFERRABLE;", "deferrable_constraints", "t, constraint: (t_a_b_key)");
    EXPECT_RULE("CREATE TABLE r (d tsrange, EXCLUDE USING gist (d WITH &&) DEFERRABLE);", "deferrable_constraints",
                "r, constraint: (r_d_excl)");
    EXPECT_NO_RULE("CREATE TABLE p (i int PRIMARY KEY); CREATE TABLE c (i int REFERENCES p DEFERRABLE);",
                   "deferrable_constraints");
}

TEST(analyze_rule_gin_multi_column_and_ordered)
{
    EXPECT_RULE("CREATE INDEX g ON t USING gin (a, b);", "gin_multi_column_index", "g ON t");
    EXPECT_RULE("CREATE INDEX g ON t USING gin (a DESC);", "gin_ordered_index", "g ON t");
    EXPECT_NO_RULE("CREATE INDEX g ON t USING gin (a);", "gin_multi_column_index");
}

TEST(analyze_rule_policy_with_roles)
{
    EXPECT_RULE("CREATE POLICY p ON t TO app_user, PUBLIC USING (true);", "policy_with_roles", "p ON t");
    EXPECT_NO_RULE("CREATE POLICY p ON t USING (true);", "policy_with_roles");
}

TEST(analyze_rule_constraint_trigger)
{
    EXPECT_RULE("CREATE CONSTRAINT TRIGGER ct AFTER INSERT ON t DEFERRABLE FOR EACH ROW EXECUTE FUNCTION f();",
                "constraint_trigger", "ct ON t");
}

TEST(analyze_rule_trigger_referencing)
{
    EXPECT_RULE("CREATE TRIGGER tr AFTER UPDATE ON t REFERENCING NEW TABLE AS nt FOR EACH STATEMENT EXECUTE FUNCTION f();",
                "trigger_referencing_clause", "tr ON t");
}

TEST(analyze_rule_before_row_trigger_on_partitioned_table)
{
    EXPECT_RULE("CREATE TABLE p (i int, d date) PARTITION BY RANGE (d);\n"
                "CREATE TRIGGER b BEFORE INSERT ON p FOR EACH ROW EXECUTE FUNCTION f();",
                "before_row_trigger_on_partitioned_table", "b ON p");
    EXPECT_NO_RULE("CREATE TABLE p (i int, d date);\n"
                   "CREATE TRIGGER b BEFORE INSERT ON p FOR EACH ROW EXECUTE FUNCTION f();",
                   "before_row_trigger_on_partitioned_table");
    EXPECT_NO_RULE("CREATE TABLE p (i int, d date) PARTITION BY RANGE (d);\n"
                   "CREATE TRIGGER b AFTER INSERT ON p FOR EACH ROW EXECUTE FUNCTION f();",
                   "before_row_trigger_on_partitioned_table");
}

TEST(analyze_rule_alter_add_pk_on_partitioned_table)
{
    EXPECT_RULE("CREATE TABLE public.p (i int, d date) PARTITION BY RANGE (d);\n"
                "ALTER TABLE ONLY public.p ADD CONSTRAINT p_pkey PRIMARY KEY (i, d);",
                "alter_add_pk_on_partitioned_table", "public.p");
    EXPECT_NO_RULE("CREATE TABLE public.p (i int, d date);\n"
                   "ALTER TABLE ONLY public.p ADD CONSTRAINT p_pkey PRIMARY KEY (i, d);",
                   "alter_add_pk_on_partitioned_table");
}

TEST(analyze_rule_expression_partition_with_pk)
{
    EXPECT_RULE("CREATE TABLE e (i int, d date, PRIMARY KEY (i)) PARTITION BY RANGE (extract(year FROM d));",
                "expression_partition_with_pk_uk", "e");
}

TEST(analyze_rule_multi_column_list_partition)
{
    EXPECT_RULE("CREATE TABLE l (a int, b int) PARTITION BY LIST (a, b);", "multi_column_list_partition", "l");
    EXPECT_NO_RULE("CREATE TABLE l (a int, b int) PARTITION BY RANGE (a, b);", "multi_column_list_partition");
}

TEST(analyze_rule_pk_missing_partition_columns)
{
    EXPECT_RULE("CREATE TABLE s (id int, d date, PRIMARY KEY (id)) PARTITION BY RANGE (d);",
                "pk_uk_missing_partition_columns", "s");
    EXPECT_NO_RULE("CREATE TABLE s (id int, d date, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);",
                   "pk_uk_missing_partition_columns");
}

TEST(analyze_rule_foreign_key_without_index)
{
    EXPECT_RULE("CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int PRIMARY KEY, pid int);\n"
                "ALTER TABLE ONLY c ADD CONSTRAINT c_fk FOREIGN KEY (pid) REFERENCES p(id);",
                "foreign_key_without_index", "c");
    EXPECT_NO_RULE("CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int PRIMARY KEY, pid int);\n"
                   "ALTER TABLE ONLY c ADD CONSTRAINT c_fk FOREIGN KEY (pid) REFERENCES p(id);\n"
                   "CREATE INDEX c_pid ON c (pid, id);",
                   "foreign_key_without_index");
}

TEST(analyze_rule_unsupported_datatypes)
{
    EXPECT_RULE("CREATE TABLE t (id int, doc xml);", "xml_datatype", "t");
    const char *types[][2] = {{"xid", "xid_datatype"},
                              {"geometry", "postgis_datatype"},
                              {"geography", "postgis_datatype"},
                              {"box2d", "postgis_datatype"},
                              {"raster", "unsupported_datatype"},
                              {"topogeometry", "postgis_datatype"},
                              {"pg_lsn", "unsupported_datatype"},
                              {"txid_snapshot", "unsupported_datatype"},
                              {"int4multirange", "multirange_datatype"},
                              {"datemultirange", "multirange_datatype"},
                              {"lo", "large_object_datatype"}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char sql[200];
        snprintf(sql, sizeof(sql), "CREATE TABLE t (id int, c %s);", types[i][0]);
        EXPECT_RULE(sql, types[i][1], "t");
    }
    EXPECT_RULE("ALTER TABLE t ADD COLUMN c xml;", "xml_datatype", "t");
}

TEST(analyze_rule_live_migration_datatypes)
{
    const char *types[] = {"point", "line", "lseg", "box", "path", "polygon", "circle", "vector(3)",
                           "time with time zone"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char sql[200];
        snprintf(sql, sizeof(sql), "CREATE TABLE t (id int, c %s);", types[i]);
        EXPECT_RULE(sql, "unsupported_datatype_live_migration", "t");
    }
    /* Upstream's user-defined types: composite types and arrays of enums; enum values themselves stream. */
    EXPECT_RULE("CREATE TYPE mood AS ENUM ('a');\nCREATE TABLE t (id int, m mood[]);",
                "unsupported_datatype_live_migration_with_ff_fb", "t");
    EXPECT_RULE("CREATE TYPE addr AS (s text);\nCREATE TABLE t (id int, a public.addr);",
                "unsupported_datatype_live_migration_with_ff_fb", "t");
    EXPECT_NO_RULE("CREATE TYPE mood AS ENUM ('a');\nCREATE TABLE t (id int, m mood);",
                   "unsupported_datatype_live_migration_with_ff_fb");
    EXPECT_NO_RULE("CREATE FOREIGN TABLE ft (id int, p point) SERVER s;", "unsupported_datatype_live_migration");
    EXPECT_RULE("CREATE TABLE t (id int, q tsquery);", "unsupported_datatype_live_migration_with_ff_fb", "t");
}

TEST(analyze_rule_index_on_complex_datatypes)
{
    const char *types[] = {"citext", "tsvector", "tsquery", "json", "jsonb", "inet", "cidr", "macaddr",
                           "bit(3)", "varbit", "int4range", "interval", "point", "pg_lsn", "txid_snapshot",
                           "int[]", "mood"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char sql[300];
        snprintf(sql, sizeof(sql), "CREATE TYPE mood AS (a int);\nCREATE TABLE t (id int, c %s);\n"
                 "CREATE INDEX ci ON t (c);", types[i]);
        EXPECT_RULE(sql, "index_on_complex_datatype", "ci ON t");
    }
    EXPECT_RULE("CREATE TABLE t (id int, c jsonb, PRIMARY KEY (c));", "pk_uk_on_complex_datatype",
                "t, constraint: (t_pkey)");
    EXPECT_RULE("CREATE TABLE t (id int, c inet);\nALTER TABLE t ADD CONSTRAINT u UNIQUE (c);",
                "pk_uk_on_complex_datatype", "t, constraint: (u)");
    /* Enums are indexable: only other user-defined types are reported. */
    EXPECT_NO_RULE("CREATE TYPE st AS ENUM ('a');\nCREATE TABLE t (id int, s st PRIMARY KEY);\nCREATE INDEX si ON t (s);",
                   "pk_uk_on_complex_datatype");
    EXPECT_NO_RULE("CREATE TYPE st AS ENUM ('a');\nCREATE TABLE t (id int, s st);\nCREATE INDEX si ON t (s);",
                   "index_on_complex_datatype");
    EXPECT_NO_RULE("CREATE TABLE t (id int, c jsonb);\nCREATE INDEX ci ON t USING gin (c);",
                   "index_on_complex_datatype");
}

TEST(analyze_rule_foreign_table)
{
    EXPECT_RULE("CREATE FOREIGN TABLE ft (i int) SERVER remote OPTIONS (table_name 'x');", "foreign_table", "ft");
}

TEST(analyze_rule_inheritance)
{
    EXPECT_RULE("CREATE TABLE parent (i int);\nCREATE TABLE child (j int) INHERITS (parent);", "table_inheritance",
                "child");
    EXPECT_NO_RULE("CREATE TABLE p (i int) PARTITION BY LIST (i);\n"
                   "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);",
                   "table_inheritance");
}

TEST(analyze_rule_security_invoker_view)
{
    EXPECT_RULE("CREATE VIEW v WITH (security_invoker = true) AS SELECT 1;", "security_invoker_view", "v");
    EXPECT_NO_RULE("CREATE VIEW v WITH (security_invoker = false) AS SELECT 1;", "security_invoker_view");
}

TEST(analyze_rule_deterministic_collation)
{
    EXPECT_RULE("CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);",
                "non_deterministic_collation", "ci");
    EXPECT_NO_RULE("CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);",
                   "deterministic_collation");
    EXPECT_RULE("CREATE COLLATION cd (provider = icu, locale = 'und', deterministic = true);",
                "deterministic_collation", "cd");
    EXPECT_NO_RULE("CREATE COLLATION c2 (provider = libc, locale = 'C');", "deterministic_collation");
}

TEST(analyze_rule_sql_body_function)
{
    EXPECT_RULE("CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql RETURN a + b;", "sql_body_function",
                "add");
    EXPECT_RULE("CREATE FUNCTION one() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;", "sql_body_function",
                "one");
}

TEST(analyze_rule_unique_nulls_not_distinct)
{
    EXPECT_RULE("CREATE TABLE t (i int, UNIQUE NULLS NOT DISTINCT (i));", "unique_nulls_not_distinct", "t");
    EXPECT_RULE("CREATE UNIQUE INDEX u ON t (i) NULLS NOT DISTINCT;", "unique_nulls_not_distinct", "u ON t");
}

TEST(analyze_rule_fk_references_partitioned_table)
{
    EXPECT_RULE("CREATE TABLE p (id int, d date, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);\n"
                "CREATE TABLE c (id int, d date, FOREIGN KEY (id, d) REFERENCES p (id, d));",
                "foreign_key_references_partitioned_table", "c, constraint: (c_id_d_fkey)");
}

TEST(analyze_rule_unsupported_extension)
{
    EXPECT_RULE("CREATE EXTENSION postgis;", "unsupported_extension", "postgis");
    EXPECT_NO_RULE("CREATE EXTENSION \"uuid-ossp\";", "unsupported_extension");
}

TEST(analyze_rule_compression_clause)
{
    EXPECT_RULE("CREATE TABLE t (i int, b text COMPRESSION pglz);", "compression_clause", "t");
    EXPECT_RULE("ALTER TABLE t ALTER COLUMN b SET COMPRESSION lz4;", "compression_clause", "t");
}

TEST(analyze_rule_advisory_locks)
{
    EXPECT_RULE(func("PERFORM pg_advisory_lock(1);"), "advisory_locks", "public.f");
    EXPECT_RULE("CREATE VIEW v AS SELECT pg_try_advisory_lock(2);", "advisory_locks", "v");
}

TEST(analyze_rule_system_columns)
{
    EXPECT_RULE(func("SELECT xmin INTO v FROM t;"), "system_columns", "public.f");
    EXPECT_RULE("CREATE VIEW v AS SELECT ctid, id FROM t;", "system_columns", "v");
}

TEST(analyze_rule_xml_functions)
{
    EXPECT_RULE("CREATE VIEW v AS SELECT xmlelement(name a, 'x');", "xml_functions", "v");
    EXPECT_RULE(func("PERFORM xpath('/a', '<a/>'::xml);"), "xml_functions", "public.f");
    EXPECT_RULE("CREATE VIEW v AS SELECT * FROM XMLTABLE('/r' PASSING doc COLUMNS a int) AS x, t;",
                "xml_functions", "v");
}

TEST(analyze_rule_fetch_with_ties)
{
    EXPECT_RULE("CREATE VIEW v AS SELECT id FROM t ORDER BY x FETCH FIRST 2 ROWS WITH TIES;", "fetch_with_ties", "v");
}

TEST(analyze_rule_regex_functions)
{
    EXPECT_RULE(func("v := regexp_count('aa', 'a');"), "regex_functions", "public.f");
    EXPECT_RULE("CREATE VIEW v AS SELECT regexp_like('a', 'a');", "regex_functions", "v");
}

TEST(analyze_rule_any_value)
{
    EXPECT_RULE("CREATE VIEW v AS SELECT x, any_value(id) FROM t GROUP BY x;", "any_value", "v");
}

TEST(analyze_rule_range_agg)
{
    EXPECT_RULE("CREATE VIEW v AS SELECT range_agg(r) FROM t;", "range_aggregate_functions", "v");
}

TEST(analyze_rule_json_predicate)
{
    EXPECT_RULE(func("IF '{}' IS JSON OBJECT THEN RETURN; END IF;"), "json_type_predicate", "public.f");
    EXPECT_RULE("CREATE VIEW v AS SELECT d IS JSON FROM t;", "json_type_predicate", "v");
}

TEST(analyze_rule_json_constructors)
{
    EXPECT_RULE("CREATE VIEW v AS SELECT json_array(1, 2);", "json_constructor_functions", "v");
    EXPECT_RULE(func("j := JSON_OBJECT('a' : 1);"), "json_constructor_functions", "public.f");
    EXPECT_NO_RULE("CREATE VIEW v AS SELECT json_object('{a,1}');", "json_constructor_functions");
}

TEST(analyze_rule_json_query_functions)
{
    EXPECT_RULE("CREATE VIEW v AS SELECT json_value(d, '$.a') FROM t;", "json_query_functions", "v");
    EXPECT_RULE(func("j := JSON_QUERY(j, '$.a' RETURNING jsonb);"), "json_query_functions", "public.f");
}

TEST(analyze_rule_large_object_functions)
{
    EXPECT_RULE(func("PERFORM lo_unlink(1);"), "large_object_functions", "public.f");
    EXPECT_RULE("CREATE TRIGGER tl BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION lo_manage(raster);",
                "large_object_functions", "tl ON t");
}

TEST(analyze_rule_jsonb_subscripting)
{
    EXPECT_RULE("CREATE TABLE t (id int, d jsonb);\nCREATE VIEW v AS SELECT d['a'] FROM t;", "jsonb_subscripting",
                "v");
    EXPECT_RULE(func("SELECT d[0] INTO j FROM t;"), "jsonb_subscripting", "public.f");
    EXPECT_NO_RULE("CREATE TABLE t (id int, a int[]);\nCREATE VIEW v AS SELECT a[1] FROM t;", "jsonb_subscripting");
}

TEST(analyze_rule_copy_from_where_and_on_error)
{
    EXPECT_RULE(func("COPY t FROM '/tmp/x' WHERE id > 1;"), "copy_from_where", "public.f");
    EXPECT_RULE(func("COPY t FROM '/tmp/x' WITH (ON_ERROR ignore);"), "copy_on_error", "public.f");
}

TEST(analyze_rule_merge)
{
    EXPECT_RULE(func("MERGE INTO t USING t AS s ON t.id = s.id WHEN MATCHED THEN DELETE;"), "merge_statement",
                "public.f");
}

TEST(analyze_rule_cte_materialized)
{
    EXPECT_RULE("CREATE VIEW v AS WITH c AS MATERIALIZED (SELECT 1 AS a) SELECT a FROM c;",
                "cte_materialized_clause", "v");
    EXPECT_RULE("CREATE VIEW v AS WITH c AS NOT MATERIALIZED (SELECT 1 AS a) SELECT a FROM c;",
                "cte_materialized_clause", "v");
    EXPECT_NO_RULE("CREATE VIEW v AS WITH c AS (SELECT 1 AS a) SELECT a FROM c;", "cte_materialized_clause");
}

TEST(analyze_rule_listen_notify)
{
    EXPECT_RULE(func("LISTEN chan;"), "listen_notify", "public.f");
    EXPECT_RULE(func("NOTIFY chan, 'x';"), "listen_notify", "public.f");
    EXPECT_RULE(func("PERFORM pg_notify('chan', 'x');"), "listen_notify", "public.f");
}

TEST(analyze_rule_non_decimal_integer_literal)
{
    EXPECT_RULE(func("v := 0x1F;"), "non_decimal_integer_literal", "public.f");
    EXPECT_RULE("CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $$ SELECT 0o17 $$;", "non_decimal_integer_literal",
                "g");
}

TEST(analyze_rule_two_phase_commit)
{
    EXPECT_RULE("CREATE PROCEDURE p() LANGUAGE sql AS $$ PREPARE TRANSACTION 'x' $$;", "two_phase_commit", "p");
    EXPECT_RULE("CREATE PROCEDURE p2() LANGUAGE sql AS $$ COMMIT PREPARED 'x' $$;", "two_phase_commit", "p2");
}

TEST(analyze_rule_savepoint)
{
    EXPECT_RULE("CREATE PROCEDURE p() LANGUAGE sql AS $$ SAVEPOINT s $$;", "savepoint", "p");
    EXPECT_RULE("CREATE PROCEDURE p() LANGUAGE sql AS $$ RELEASE SAVEPOINT s $$;", "savepoint", "p");
}

TEST(analyze_rule_create_index_concurrently)
{
    EXPECT_RULE("CREATE INDEX CONCURRENTLY ic ON t (id);", "create_index_concurrently", "ic ON t");
}

TEST(analyze_issue_fields_are_filled)
{
    analysis *a = run("CREATE UNLOGGED TABLE public.u (i int);");
    CHECK_INT_EQ(an_issue_count(a), 1);
    const an_issue *is = an_issue_at(a, 0);
    bool ok = !strcmp(is->issue_type, "unsupported_features") && !strcmp(is->object_type, "TABLE") &&
              !strcmp(is->object_name, "public.u") && is->reason[0] && strstr(is->sql, "UNLOGGED") &&
              is->suggestion[0] &&
              str_starts_with(is->docs_link, "https://docs.yugabyte.com/preview/yugabyte-voyager/known-issues/postgresql/#");
    an_free(a);
    CHECK(ok);
}

TEST(analyze_object_counts)
{
    analysis *a = run("CREATE TABLE a (i int);\nCREATE TABLE b (i int);\nCREATE INDEX ai ON a (i);\n"
                      "CREATE VIEW v AS SELECT 1;\nALTER TABLE a ADD COLUMN j int;\n");
    size_t tables = 0, indexes = 0, views = 0, n = an_objstat_count(a);
    for (size_t i = 0; i < n; i++) {
        const an_objstat *o = an_objstat_at(a, i);
        if (!strcmp(o->object_type, "TABLE"))
            tables = o->count;
        if (!strcmp(o->object_type, "INDEX"))
            indexes = o->count;
        if (!strcmp(o->object_type, "VIEW"))
            views = o->count;
    }
    an_free(a);
    CHECK_INT_EQ(tables, 2);
    CHECK_INT_EQ(indexes, 1);
    CHECK_INT_EQ(views, 1);
    CHECK_INT_EQ(n, 3);
}

TEST(analyze_plpgsql_body_with_old_json_calls_is_walked)
{
    /* json_object(text[]) is PostgreSQL 9.4's; a simple json_value() call parses and the rest is still walked. */
    EXPECT_NO_RULE(func("j := json_object('{a,1}');"), "json_constructor_functions");
    EXPECT_RULE(func("v := json_value(j, '$.a'); PERFORM pg_advisory_lock(1);"), "advisory_locks", "public.f");
    EXPECT_RULE(func("v := json_value(j, '$.a'); PERFORM pg_advisory_lock(1);"), "json_query_functions", "public.f");
}

TEST(analyze_body_syntax_error_is_reported)
{
    analysis *a = run("CREATE FUNCTION public.broken() RETURNS int LANGUAGE sql AS $$ SELECT FROM WHERE $$;");
    size_t n = an_count_rule(a, "syntax_error", "public.broken");
    const an_issue *is = an_issue_at(a, 0);
    bool ok = n == 1 && is && strstr(is->reason, "body of FUNCTION public.broken");
    if (!ok)
        dump(a);
    an_free(a);
    CHECK(ok);
}

TEST(analyze_psql_meta_commands_are_skipped)
{
    /* pg_dump 15.14+ brackets its output with \restrict / \unrestrict. */
    analysis *a = run("\\restrict 2WbC123\n\nCREATE TABLE public.a (i int);\n\nCREATE UNLOGGED TABLE public.b (i int);\n"
                      "\n\\unrestrict 2WbC123\n");
    size_t n = an_issue_count(a);
    int line = n ? an_issue_at(a, 0)->line : 0;
    char *schemas = an_schema_names(a);
    bool ok = n == 1 && line == 5 && !strcmp(an_issue_at(a, 0)->rule, "unlogged_table") && !strcmp(schemas, "public");
    if (!ok)
        dump(a);
    free(schemas);
    an_free(a);
    CHECK(ok);
}

TEST(analyze_psql_meta_command_with_letter_key)
{
    EXPECT_CLEAN("\\restrict AbC\nCREATE TABLE public.a (i int);\n\\unrestrict AbC\n");
    /* A backslash line that is not where the scanner stopped stays part of the SQL it is in. */
    EXPECT_RULE("CREATE FUNCTION public.g() RETURNS text LANGUAGE sql AS $$\n\\x 0x1F\n$$;\n"
                "CREATE UNLOGGED TABLE public.u (i int);",
                "unlogged_table", "public.u");
}

TEST(analyze_unparseable_statement_names_its_object)
{
    EXPECT_RULE("CREATE OR REPLACE VIEW public.\"Big View\" AS SELECT d IS NOT JSON FROM t;", "json_type_predicate",
                "public.Big View");
    EXPECT_RULE("CREATE MATERIALIZED VIEW IF NOT EXISTS s.mv AS SELECT JSON_OBJECT('a' : 1);",
                "json_constructor_functions", "s.mv");
    EXPECT_RULE("CREATE UNIQUE INDEX CONCURRENTLY ix ON ONLY public.t (i intt intt);", "syntax_error",
                "ix ON public.t");
    EXPECT_RULE("CREATE TRIGGER tr BEFORE INSERT OR UPDATE ON public.\"Order\" FOR EACH ROW EXECUTE oops;",
                "syntax_error", "tr ON public.Order");
    EXPECT_RULE("SELECT FROM WHERE;", "syntax_error", "");
    /* A quoted "json" is a name, not the predicate. */
    EXPECT_NO_RULE("CREATE VIEW v AS SELECT x IS \"json\" FROM t;", "json_type_predicate");
}
