/*
 * analyze-schema against upstream's catalogue: one statement per kind of
 * issue, with the kind, object and links upstream yb-voyager reports for it
 * (GH and DocsLink copied from upstream's issue definitions, not from our
 * catalogue, so a wrong link in either fails here).
 */
#include "testlib.h"

#include "core/util.h"
#include "schema/analyze/analyze.h"
#include "schema/analyze/report.h"

#include <stdlib.h>

#define YB "https://github.com/yugabyte/yugabyte-db/issues/"
#define YBU "https://github.com/YugaByte/yugabyte-db/issues/"
#define VOY "https://github.com/yugabyte/yb-voyager/issues/"
#define KI "https://docs.yugabyte.com/preview/yugabyte-voyager/known-issues/"
#define PG KI "postgresql/#"
#define PG12 PG "postgresql-12-and-later-features"
#define ALT PG "unsupported-alter-table-ddl-variants-in-source-schema"
#define CPX PG "indexes-on-some-complex-data-types-are-not-supported"

typedef struct kind_case {
    const char *file; /* schema file, relative to the export dir */
    const char *sql;
    const char *kind, *obj_type, *obj_name, *gh, *docs;
} kind_case;

#define FN(body) "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN " body " END $$;"
#define T "schema/tables/table.sql"
#define F "schema/functions/function.sql"

static const kind_case cases[] = {
    {T, "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED);", "STORED_GENERATED_COLUMNS", "TABLE",
     "t", YB "10695", PG "generated-always-as-stored-type-column-is-not-supported"},
    {T, "CREATE UNLOGGED TABLE public.u (i int);", "UNLOGGED_TABLES", "TABLE", "public.u", YB "1129/",
     PG "unlogged-table-is-not-supported"},
    {T, "CREATE INDEX film_fulltext_idx ON public.film USING gist (fulltext);", "UNSUPPORTED_INDEX_METHOD", "INDEX",
     "film_fulltext_idx ON public.film", YBU "1337", PG "gist-brin-and-spgist-index-types-are-not-supported"},
    {T, "CREATE INDEX i ON t (a) WITH (fillfactor = 70);", "STORAGE_PARAMETERS", "INDEX", "i ON t", YB "23467",
     PG "storage-parameters-on-indexes-or-constraints-in-the-source-postgresql"},
    {T, "ALTER TABLE t ALTER COLUMN a SET (n_distinct = 1);", "ALTER_TABLE_SET_COLUMN_ATTRIBUTE", "TABLE", "t",
     YB "1124", ALT},
    {T, "ALTER TABLE t CLUSTER ON t_idx;", "ALTER_TABLE_CLUSTER_ON", "TABLE", "t", YBU "1124", ALT},
    {T, "ALTER TABLE t DISABLE RULE r;", "ALTER_TABLE_DISABLE_RULE", "TABLE", "t", YB "1124", ALT},
    {T, "CREATE TABLE r (d tsrange, CONSTRAINT no_overlap EXCLUDE USING gist (d WITH &&));", "EXCLUSION_CONSTRAINTS",
     "TABLE", "r, constraint: (no_overlap)", YB "3944", PG "exclusion-constraints-is-not-supported"},
    {T, "ALTER TABLE ONLY t ADD CONSTRAINT t_u UNIQUE (a) DEFERRABLE INITIALLY DEFERRED;", "DEFERRABLE_CONSTRAINTS",
     "TABLE", "t, constraint: (t_u)", YB "1709",
     PG "deferrable-constraint-on-constraints-other-than-foreign-keys-is-not-supported"},
    {T, "CREATE INDEX idx_name3 ON schema_name.table_name USING gin (col1, col2, col3);", "MULTI_COLUMN_GIN_INDEX",
     "INDEX", "idx_name3 ON schema_name.table_name", YB "10652", PG "gin-indexes-on-multiple-columns-are-not-supported"},
    {T, "CREATE INDEX g ON t USING gin (a DESC);", "ORDERED_GIN_INDEX", "INDEX", "g ON t", YB "10653",
     PG "issue-in-some-unsupported-cases-of-gin-indexes"},
    {"schema/policies/policy.sql", "CREATE POLICY p ON public.t TO app_user USING (true);", "POLICY_WITH_ROLES",
     "POLICY", "p ON public.t", VOY "1655", PG "policies-on-users-in-source-require-manual-user-creation"},
    {"schema/triggers/trigger.sql",
     "CREATE CONSTRAINT TRIGGER some_trig AFTER DELETE ON xyz_schema.abc DEFERRABLE INITIALLY DEFERRED "
     "FOR EACH ROW EXECUTE PROCEDURE xyz_schema.some_trig();",
     "CONSTRAINT_TRIGGER", "TRIGGER", "some_trig ON xyz_schema.abc", YBU "1709", PG "constraint-trigger-is-not-supported"},
    {"schema/triggers/trigger.sql",
     "CREATE TRIGGER transfer_insert AFTER INSERT ON transfer REFERENCING NEW TABLE AS inserted "
     "FOR EACH STATEMENT EXECUTE FUNCTION check_transfer();",
     "REFERENCING_CLAUSE_IN_TRIGGER", "TRIGGER", "transfer_insert ON transfer", YBU "1668",
     PG "referencing-clause-for-triggers"},
    {T, "CREATE TABLE p (a int, d date) PARTITION BY RANGE (d);\n"
        "CREATE TRIGGER bt BEFORE INSERT ON p FOR EACH ROW EXECUTE FUNCTION f();",
     "BEFORE_ROW_TRIGGER_ON_PARTITIONED_TABLE", "TRIGGER", "bt ON p", YB "24830",
     PG "before-row-triggers-on-partitioned-tables"},
    {T, "CREATE TABLE p (a int, d date) PARTITION BY RANGE (d);\nALTER TABLE ONLY p ADD CONSTRAINT p_pk PRIMARY KEY (a, d);",
     "ALTER_TABLE_ADD_PK_ON_PARTITIONED_TABLE", "TABLE", "p", YB "10074",
     PG "adding-primary-key-to-a-partitioned-table-results-in-an-error"},
    {T, "CREATE TABLE sales (id int, d timestamp, PRIMARY KEY (d)) PARTITION BY RANGE (extract(year from d));",
     "EXPRESSION_PARTITION_WITH_PK_UK", "TABLE", "sales", VOY "698",
     KI "mysql/#tables-partitioned-with-expressions-cannot-contain-primary-unique-keys"},
    {T, "CREATE TABLE test_1 (id int PRIMARY KEY, a text, b text) PARTITION BY LIST (a, b);",
     "MULTI_COLUMN_LIST_PARTITION", "TABLE", "test_1", VOY "699",
     KI "mysql/#multi-column-partition-by-list-is-not-supported"},
    {T, "CREATE TABLE test_5 (id int, a text, b text, PRIMARY KEY (id)) PARTITION BY RANGE (a, b);",
     "INSUFFICIENT_COLUMNS_IN_PK_FOR_PARTITION", "TABLE", "test_5", VOY "578",
     KI "oracle/#partition-key-column-not-part-of-primary-key-columns"},
    {T, "CREATE TABLE x (id int, doc xml);", "XML_DATATYPE", "TABLE", "x", YB "1043",
     PG "data-ingestion-on-xml-data-type-is-not-supported"},
    {T, "CREATE TABLE x (id int, t xid);", "XID_DATATYPE", "TABLE", "x", YB "15638", PG "xid-functions-is-not-supported"},
    {T, "CREATE TABLE x (id int, g geometry);", "POSTGIS_DATATYPE", "TABLE", "x", YB "11323",
     PG "unsupported-datatypes-by-yugabytedb"},
    {T, "CREATE TABLE x (id int, l pg_lsn);", "UNSUPPORTED_DATATYPE", "TABLE", "x", VOY "1731",
     PG "unsupported-datatypes-by-yugabytedb"},
    {T, "CREATE TABLE x (id int, b lo);", "LARGE_OBJECT_DATATYPE", "TABLE", "x", YB "25318",
     PG "large-objects-and-its-functions-are-currently-not-supported"},
    {T, "CREATE TABLE x (id int, r int4multirange);", "MULTI_RANGE_DATATYPE", "TABLE", "x", YB "25575", PG12},
    {T, "CREATE TABLE x (id int, p point);", "UNSUPPORTED_DATATYPE_LIVE_MIGRATION", "TABLE", "x", VOY "1731",
     PG "unsupported-datatypes-by-voyager-during-live-migration"},
    {T, "CREATE TABLE x (id int, q tsquery);", "UNSUPPORTED_DATATYPE_LIVE_MIGRATION_WITH_FF_FB", "TABLE", "x",
     VOY "1731", PG "unsupported-datatypes-by-voyager-during-live-migration"},
    {T, "CREATE TABLE test_interval (frequency interval PRIMARY KEY, col1 int);", "PK_UK_ON_COMPLEX_DATATYPE", "TABLE",
     "test_interval, constraint: (test_interval_pkey)", YB "25003", CPX},
    {T, "CREATE TABLE x (id int, c citext);\nCREATE INDEX xc ON x (c);", "INDEX_ON_CITEXT_DATATYPE", "INDEX",
     "xc ON x", YB "25003", CPX},
    {T, "CREATE TABLE x (id int, j jsonb);\nCREATE INDEX xj ON public.x (j);", "INDEX_ON_JSONB_DATATYPE", "INDEX",
     "xj ON public.x", YB "25003", CPX},
    {T, "CREATE TABLE x (id int, a int[]);\nCREATE INDEX xa ON x (a);", "INDEX_ON_ARRAY_DATATYPE", "INDEX", "xa ON x",
     YB "25003", CPX},
    {T, "CREATE INDEX xe ON x ((doc::jsonb));", "INDEX_ON_JSONB_DATATYPE", "INDEX", "xe ON x", YB "25003", CPX},
    {T, "CREATE INDEX xt ON x (((tags)::text[]));", "INDEX_ON_ARRAY_DATATYPE", "INDEX", "xt ON x", YB "25003", CPX},
    {T, "CREATE TYPE addr AS (street text);\nCREATE TABLE x (id int, a addr);\nCREATE INDEX xa ON x (a);",
     "INDEX_ON_USER_DEFINED_DATATYPE", "INDEX", "xa ON x", YB "25003", CPX},
    {T, "CREATE FOREIGN TABLE ft (id int) SERVER remote;", "FOREIGN_TABLE", "FOREIGN TABLE", "ft", VOY "1627",
     PG "foreign-table-in-the-source-database-requires-server-and-user-mapping"},
    {T, "CREATE TABLE table_1 () INHERITS (xyz);", "INHERITANCE", "TABLE", "table_1", YBU "1129",
     PG "table-inheritance-is-not-supported"},
    {F, "CREATE FUNCTION public.pt(x t.a%TYPE) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
     "REFERENCED_TYPE_DECLARATION", "FUNCTION", "public.pt", YB "23619", PG "type-syntax-is-not-supported"},
    {F, "CREATE FUNCTION public.pv() RETURNS void LANGUAGE plpgsql AS $$ DECLARE v public.t.c%TYPE; BEGIN NULL; END $$;",
     "REFERENCED_TYPE_DECLARATION", "FUNCTION", "public.pv", YB "23619", PG "type-syntax-is-not-supported"},
    /* DDL a routine runs is reported on the routine. */
    {F, "CREATE FUNCTION public.mk() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CREATE UNLOGGED TABLE scratch (i int); END $$;",
     "UNLOGGED_TABLES", "FUNCTION", "public.mk", YB "1129/", PG "unlogged-table-is-not-supported"},
    {F, "CREATE FUNCTION public.mi() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CREATE INDEX gi ON t USING gist (a); END $$;",
     "UNSUPPORTED_INDEX_METHOD", "FUNCTION", "public.mi", YBU "1337", PG "gist-brin-and-spgist-index-types-are-not-supported"},
    {"schema/views/view.sql", "CREATE VIEW v WITH (security_invoker = true) AS SELECT 1;", "SECURITY_INVOKER_VIEWS",
     "VIEW", "v", YB "25575", PG12},
    {"schema/collations/collation.sql", "CREATE COLLATION c1 (provider = icu, locale = 'und', deterministic = true);",
     "DETERMINISTIC_OPTION_WITH_COLLATION", "COLLATION", "c1", YB "25575", PG12},
    {"schema/collations/collation.sql", "CREATE COLLATION c2 (provider = icu, locale = 'und', deterministic = false);",
     "NON_DETERMINISTIC_COLLATION", "COLLATION", "c2", YB "25575", PG12},
    {T, "CREATE TABLE p (id int, d date, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);\n"
        "CREATE TABLE c (id int, d date, CONSTRAINT c_fk FOREIGN KEY (id, d) REFERENCES p (id, d));",
     "FOREIGN_KEY_REFERENCED_PARTITIONED_TABLE", "TABLE", "c, constraint: (c_fk)", YB "25575", PG12},
    {F, "CREATE FUNCTION public.add(a int, b int) RETURNS int LANGUAGE sql RETURN a + b;", "SQL_BODY_IN_FUNCTION",
     "FUNCTION", "public.add", YB "25575", PG12},
    {T, "CREATE TABLE x (i int, UNIQUE NULLS NOT DISTINCT (i));", "UNIQUE_NULLS_NOT_DISTINCT", "TABLE", "x", YB "25575",
     PG12},
    {T, "CREATE TABLE x (i int, t text COMPRESSION pglz);", "COMPRESSION_CLAUSE_IN_TABLE", "TABLE", "x", YB "25575",
     PG12},
    {F, FN("PERFORM pg_advisory_lock(1);"), "ADVISORY_LOCKS", "FUNCTION", "public.f", YB "3642",
     PG "advisory-locks-is-not-yet-implemented"},
    {F, FN("PERFORM xmin FROM t;"), "SYSTEM_COLUMNS", "FUNCTION", "public.f", YB "24843",
     PG "system-columns-is-not-yet-supported"},
    {F, FN("PERFORM xmlconcat('<a/>', '<b/>');"), "XML_FUNCTIONS", "FUNCTION", "public.f", YB "1043",
     PG "xml-functions-is-not-yet-supported"},
    {F, FN("PERFORM regexp_count('a', 'a');"), "REGEX_FUNCTIONS", "FUNCTION", "public.f", YB "25575", PG12},
    {F, FN("PERFORM * FROM t ORDER BY a FETCH FIRST 1 ROWS WITH TIES;"), "FETCH_WITH_TIES", "FUNCTION", "public.f",
     YB "25575", PG12},
    {F, FN("PERFORM any_value(a) FROM t;"), "ANY_VALUE_AGGREGATE_FUNCTION", "FUNCTION", "public.f", YB "25575", PG12},
    {F, FN("PERFORM range_agg(r) FROM t;"), "RANGE_AGGREGATE_FUNCTION", "FUNCTION", "public.f", YB "25575", PG12},
    {"schema/views/view.sql", "CREATE VIEW jv AS SELECT d IS JSON FROM t;", "JSON_TYPE_PREDICATE", "VIEW", "jv",
     YB "25575", PG12},
    {"schema/views/view.sql", "CREATE VIEW jc AS SELECT JSON_OBJECT('a' : 1);", "JSON_CONSTRUCTOR_FUNCTION", "VIEW",
     "jc", YB "25575", PG12},
    {"schema/views/view.sql", "CREATE VIEW jq AS SELECT JSON_VALUE(j, '$.a' RETURNING int) FROM t;",
     "JSON_QUERY_FUNCTION", "VIEW", "jq", YB "25575", PG12},
    {F, FN("PERFORM lo_unlink(1);"), "LARGE_OBJECT_FUNCTIONS", "FUNCTION", "public.f", YB "25318",
     PG "large-objects-and-its-functions-are-currently-not-supported"},
    {F, "CREATE FUNCTION public.js(j jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT j['a'] $$;", "JSONB_SUBSCRIPTING",
     "FUNCTION", "public.js", YB "25575", PG "jsonb-subscripting"},
    {F, FN("COPY t FROM '/tmp/x' WHERE a > 1;"), "COPY FROM ... WHERE", "FUNCTION", "public.f", YB "25575", PG12},
    {F, FN("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE;"), "MERGE_STATEMENT", "FUNCTION", "public.f",
     YB "25574", PG "merge-command"},
    {F, FN("PERFORM * FROM (WITH w AS MATERIALIZED (SELECT 1) SELECT * FROM w) q;"), "CTE_WITH_MATERIALIZED_CLAUSE",
     "FUNCTION", "public.f", YB "25575", PG12},
    {F, FN("NOTIFY chan;"), "LISTEN_NOTIFY", "FUNCTION", "public.f", YB "1872", PG "events-listen-notify"},
    {"schema/views/view.sql", "CREATE VIEW hx AS SELECT 0x1F AS n;", "NON_DECIMAL_INTEGER_LITERAL", "VIEW", "hx",
     YB "25575", PG12},
    {"schema/procedures/procedure.sql", "CREATE PROCEDURE public.tp() LANGUAGE sql AS $$ PREPARE TRANSACTION 'x' $$;",
     "TWO_PHASE_COMMIT", "PROCEDURE", "public.tp", YB "11084", PG "two-phase-commit"},
    {"schema/uncategorized.sql", "CREATE DATABASE d WITH ICU_LOCALE = 'en_US' LOCALE_PROVIDER = 'icu' TEMPLATE = template0;",
     "DATABASE_OPTIONS_PG15", "DATABASE", "d", YB "25575", PG12},
    {"schema/uncategorized.sql", "CREATE DATABASE d2 WITH BUILTIN_LOCALE = 'C';", "DATABASE_OPTIONS_PG17", "DATABASE",
     "d2", YB "25575", PG12},
    {"schema/extensions/extension.sql", "CREATE EXTENSION postgis;", "UNSUPPORTED_EXTENSION", "EXTENSION", "postgis",
     VOY "1538", "https://docs.yugabyte.com/preview/explore/ysql-language-features/pg-extensions/"},
    /* Upstream's statement-level checks (no issue type of their own upstream: kinds are ours). */
    {"schema/views/view.sql", "CREATE VIEW v2 AS SELECT * FROM t1 WHERE a < 2\nWITH LOCAL CHECK OPTION;",
     "VIEW_WITH_CHECK_OPTION", "VIEW", "v2", YB "22716", PG "view-with-check-option-is-not-supported"},
    {"schema/collations/collation.sql", "DROP COLLATION IF EXISTS coll1, coll2, coll3;", "DROP_MULTIPLE_OBJECTS",
     "COLLATION", "", YBU "880", ""},
    {T, "DROP INDEX idx1, idx2;", "DROP_MULTIPLE_OBJECTS", "INDEX", "", YBU "880", ""},
    {"schema/views/view.sql", "DROP VIEW IF EXISTS view1, view2;", "DROP_MULTIPLE_OBJECTS", "VIEW", "", YBU "880", ""},
    {"schema/sequences/sequence.sql", "DROP SEQUENCE seq1_tbl, seq2_tbl;", "DROP_MULTIPLE_OBJECTS", "SEQUENCE", "",
     YBU "880", ""},
    {T, "DROP FOREIGN TABLE f1, f2;", "DROP_MULTIPLE_OBJECTS", "FOREIGN TABLE", "", YBU "880", ""},
    {T, "DROP INDEX CONCURRENTLY sales_quantity_index;", "DROP_INDEX_CONCURRENTLY", "INDEX", "sales_quantity_index",
     YB "22717", ""},
    {T, "CREATE ACCESS METHOD heptree TYPE INDEX HANDLER heptree_handler;", "CREATE_ACCESS_METHOD", "ACCESS METHOD",
     "heptree", YB "10693", ""},
    {T, "REINDEX TABLE my_table;", "REINDEX", "TABLE", "my_table", YB "10267", ""},
    {T, "CREATE TABLE table_abc (LIKE abc INCLUDING ALL);", "LIKE_ALL", "TABLE", "table_abc", YB "10697", ""},
    {T, "CREATE TABLE table_xyz (LIKE xyz INCLUDING DEFAULTS INCLUDING CONSTRAINTS);", "LIKE_CLAUSE", "TABLE",
     "table_xyz", YBU "1129", ""},
    {T, "CREATE TABLE table_test (col1 text, col2 int) WITH (OIDS = TRUE);", "OIDS", "TABLE", "table_test", YB "10273",
     ""},
    {T, "ALTER TABLE t OF some_type;", "ALTER_TABLE_OF", "TABLE", "t", YBU "1124", ""},
    {T, "ALTER TABLE ONLY party_profile_part OF parent_tbl ADD CONSTRAINT pk PRIMARY KEY (id);", "ALTER_TABLE_OF",
     "TABLE", "party_profile_part", YBU "1124", ""},
    {T, "ALTER TABLE t NOT OF;", "ALTER_TABLE_NOT_OF", "TABLE", "t", YBU "1124", ""},
    {T, "ALTER TABLE oldschema.tbl_name SET SCHEMA newschema;", "ALTER_TABLE_SET_SCHEMA", "TABLE", "oldschema.tbl_name",
     YBU "3947", ""},
    {"schema/schemas/schema.sql", "CREATE SCHEMA hollywood CREATE TABLE films (title text);",
     "CREATE_SCHEMA_WITH_ELEMENTS", "SCHEMA", "", YBU "10865", ""},
    {T, "ALTER TABLE table_name ALTER COLUMN column_name SET STATISTICS 100;", "ALTER_TABLE_SET_STATISTICS", "TABLE",
     "table_name", YBU "1124", ""},
    {T, "ALTER TABLE test ALTER COLUMN col SET STORAGE EXTERNAL;", "ALTER_TABLE_SET_STORAGE", "TABLE", "test",
     YBU "1124", ""},
    {T, "ALTER TABLE test_1 ALTER COLUMN col1 RESET (n_distinct);", "ALTER_TABLE_RESET_COLUMN_ATTRIBUTE", "TABLE",
     "test_1", YBU "1124", ""},
    {T, "ALTER TABLE abc ALTER CONSTRAINT cons_fk DEFERRABLE;", "ALTER_TABLE_ALTER_CONSTRAINT", "TABLE", "abc",
     YBU "1124", ""},
    {T, "ALTER TABLE abc SET WITH OIDS;", "ALTER_TABLE_SET_WITH_OIDS", "TABLE", "abc", YBU "1124", ""},
    {T, "ALTER TABLE test SET WITHOUT CLUSTER;", "ALTER_TABLE_SET_WITHOUT_CLUSTER", "TABLE", "test", YBU "1124", ""},
    {T, "ALTER TABLE abc SET (fillfactor = 70);", "ALTER_TABLE_SET", "TABLE", "abc", YBU "1124", ""},
    {T, "ALTER TABLE abc RESET (fillfactor);", "ALTER_TABLE_RESET", "TABLE", "abc", YBU "1124", ""},
    {T, "ALTER TABLE ONLY lg SET LOGGED;", "ALTER_TABLE_SET", "TABLE", "lg", YBU "1124", ""},
    {T, "ALTER TABLE wo SET WITHOUT OIDS;", "ALTER_TABLE_SET", "TABLE", "wo", YBU "1124", ""},
    {T, "ALTER FOREIGN TABLE ft OPTIONS (ADD opt 'v');", "ALTER_TABLE_OPTIONS", "TABLE", "ft", YBU "1124", ""},
    {T, "ALTER TABLE abc INHERIT xyz;", "ALTER_TABLE_INHERIT", "TABLE", "abc", YBU "1124", ""},
    {T, "ALTER TABLE distributors VALIDATE CONSTRAINT distfk;", "ALTER_TABLE_VALIDATE_CONSTRAINT", "TABLE",
     "distributors", YBU "1124", ""},
    {T, "ALTER INDEX abc SET TABLESPACE new_tbl;", "ALTER_INDEX_SET", "INDEX", "abc", YBU "1124", ""},
    {"schema/types/type.sql", "ALTER TYPE colors ADD VALUE 'orange' AFTER 'red';", "ALTER_TYPE", "TYPE", "colors",
     YBU "1893", ""},
    {"schema/types/type.sql", "ALTER TYPE compfoo RENAME ATTRIBUTE f1 TO f2;", "ALTER_TYPE", "TYPE", "compfoo",
     YBU "1893", ""},
    {"schema/types/type.sql", "ALTER TYPE compfoo DROP ATTRIBUTE f1;", "ALTER_TYPE_DROP_ATTRIBUTE", "TYPE", "compfoo",
     YBU "1893", ""},
    {T, "ALTER TABLESPACE ts SET (seq_page_cost = 1);", "ALTER_TABLESPACE", "TABLESPACE", "ts", YBU "1153", ""},
    {"schema/views/view.sql", "ALTER VIEW v RENAME TO w;", "ALTER_VIEW", "VIEW", "v", YBU "1131", ""},
    {"schema/views/view.sql", "ALTER VIEW view_name TO select * from test;", "ALTER_VIEW", "VIEW", "view_name",
     YBU "1131", ""},
    {T, "ALTER AGGREGATE myavg(int) RENAME TO my_average;", "ALTER_AGGREGATE", "AGGREGATE", "myavg", YBU "2717", ""},
    {F, "CREATE FUNCTION public.cf(int) RETURNS int AS 'mylib', 'cf' LANGUAGE c;", "LANGUAGE_C", "FUNCTION",
     "public.cf", VOY "1540", ""},
    {"schema/procedures/procedure.sql",
     "CREATE OR REPLACE PROCEDURE foo (p_id integer) AS $body$\nBEGIN\n    drop temporary table if exists temp;\n"
     "end;\n$body$\nLANGUAGE PLPGSQL;",
     "DROP_TEMPORARY_TABLE", "PROCEDURE", "foo", VOY "705", KI "mysql/#drop-temporary-table-statements-are-not-supported"},
    {"schema/views/view.sql", "CREATE VIEW ja AS SELECT JSON_ARRAYAGG(x) FROM t;", "JSON_ARRAYAGG", "VIEW", "ja",
     VOY "1542", ""},
    {T, "CREATE FOREIGN TABLE tbl_p (id int PRIMARY KEY) SERVER remote;", "FOREIGN_TABLE_PRIMARY_KEY", "TABLE", "tbl_p",
     YB "10698", ""},
    {T, "CREATE FOREIGN TABLE tbl_f (id int, CONSTRAINT fk FOREIGN KEY (id) REFERENCES r (id)) SERVER remote;",
     "FOREIGN_TABLE_FOREIGN_KEY", "TABLE", "tbl_f", YB "10699", ""},
    {"schema/triggers/trigger.sql",
     "CREATE OR REPLACE TRIGGER emp_trig FOR INSERT ON emp COMPOUND TRIGGER BEFORE STATEMENT IS BEGIN NULL; "
     "END BEFORE STATEMENT; END emp_trig;",
     "COMPOUND_TRIGGER", "TRIGGER", "emp_trig", VOY "1543", ""},
    {"schema/conversions/conversion.sql", "CREATE CONVERSION myconv FOR 'UTF8' TO 'LATIN1' FROM myfunc;",
     "CREATE_CONVERSION", "CONVERSION", "myconv", YBU "10866", PG "create-or-alter-conversion-is-not-supported"},
    {"schema/conversions/conversion.sql", "ALTER CONVERSION myconv RENAME TO c2;", "ALTER_CONVERSION", "CONVERSION",
     "myconv", YBU "10866", PG "create-or-alter-conversion-is-not-supported"},
    {F,
     "CREATE FUNCTION public.f() RETURNS void LANGUAGE sql AS $$ FETCH PRIOR FROM cur $$;",
     "CURSOR_FETCH_DIRECTION", "CURSOR", "public.f", YBU "6514", ""},
    {F, FN("UPDATE t SET a = 1 WHERE CURRENT OF cur;"), "WHERE_CURRENT_OF", "CURSOR", "", YBU "737", ""},
    {T, "CREATE TABLE b (i int,\n  j intt intt);", "UNSUPPORTED_PG_SYNTAX", "TABLE", "b", VOY "1625", ""},
    {T, "CREATE TABLE anydata_test (id numeric, content ANYDATA);", "ORACLE_DATATYPE", "TABLE", "anydata_test",
     VOY "1541", ""},
    {"schema/triggers/trigger.sql",
     "CREATE TRIGGER emp_trig\n\tCOMPOUND INSERT ON emp FOR EACH ROW\n\tEXECUTE PROCEDURE trigger_fct_emp_trig();",
     "COMPOUND_TRIGGER", "TRIGGER", "emp_trig", VOY "1543", ""},
    {"schema/triggers/trigger.sql",
     "CREATE TRIGGER test\n    INSERT on test for each ROW\n    EXECUTE PROCEDURE JSON_ARRAYAGG(trunc(b, 2) order by t desc);",
     "JSON_ARRAYAGG", "TRIGGER", "test", VOY "1542", ""},
    {T, "CREATE INDEX idx_name2 ON table_name USING rtree (col1);", "UNSUPPORTED_INDEX_METHOD", "INDEX",
     "idx_name2 ON table_name", YBU "1337", PG "gist-brin-and-spgist-index-types-are-not-supported"},
    /* One issue for all the generated columns of a table. */
    {T, "CREATE TABLE enum_example.bugs (id int, s text, _s text GENERATED ALWAYS AS (s) STORED,\n"
        "  info text GENERATED ALWAYS AS (upper(s)) STORED);",
     "STORED_GENERATED_COLUMNS", "TABLE", "enum_example.bugs", YB "10695",
     PG "generated-always-as-stored-type-column-is-not-supported"},
};

/* The issues of one case matching its kind and object, and whether they carry the case's links. */
static bool check_case(const kind_case *c)
{
    analysis *a = an_new();
    an_add_sql(a, c->file, c->sql);
    an_run(a);
    size_t found = 0;
    bool links = true;
    for (size_t i = 0; i < an_issue_count(a); i++) {
        const an_issue *is = an_issue_at(a, i);
        if (strcmp(is->kind, c->kind) != 0 || strcmp(is->object_type, c->obj_type) != 0 ||
            strcmp(is->object_name, c->obj_name) != 0)
            continue;
        found++;
        links = links && !strcmp(is->gh, c->gh) && !strcmp(is->docs_link, c->docs) && !strcmp(is->file_path, c->file);
    }
    bool ok = found == 1 && links;
    if (!ok) {
        fprintf(stderr, "    want %s on %s '%s' (%s %s), found %zu%s:\n", c->kind, c->obj_type, c->obj_name, c->gh,
                c->docs, found, links ? "" : " with other links");
        for (size_t i = 0; i < an_issue_count(a); i++) {
            const an_issue *is = an_issue_at(a, i);
            fprintf(stderr, "      got %s on %s '%s' (%s %s)\n", is->kind, is->object_type, is->object_name, is->gh,
                    is->docs_link);
        }
    }
    an_free(a);
    return ok;
}

TEST(analyze_every_upstream_kind_with_its_object_and_links)
{
    size_t bad = 0;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        bad += !check_case(&cases[i]);
    CHECK_INT_EQ(bad, 0);
}

TEST(analyze_min_fixed_versions_are_upstreams)
{
    static const struct {
        const char *sql, *kind, *min_fixed;
    } m[] = {
        {"CREATE UNLOGGED TABLE u (i int);", "UNLOGGED_TABLES", "2024.2=2024.2.0.0;2.25=2.25.0.0"},
        {"CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a) STORED);", "STORED_GENERATED_COLUMNS", "2.25=2.25.0.0"},
        {"CREATE TABLE p (a int, d date) PARTITION BY RANGE (d);\nALTER TABLE p ADD PRIMARY KEY (a, d);",
         "ALTER_TABLE_ADD_PK_ON_PARTITIONED_TABLE", "2024.1=2024.1.0.0;2024.2=2024.2.0.0;2.23=2.23.0.0;2.25=2.25.0.0"},
        {"CREATE INDEX g ON t USING gist (a);", "UNSUPPORTED_INDEX_METHOD", NULL},
    };
    size_t bad = 0;
    for (size_t i = 0; i < ARRAY_LEN(m); i++) {
        analysis *a = an_new();
        an_add_sql(a, "schema/tables/table.sql", m[i].sql);
        an_run(a);
        bool seen = false;
        for (size_t j = 0; j < an_issue_count(a); j++) {
            const an_issue *is = an_issue_at(a, j);
            if (!strcmp(is->kind, m[i].kind)) {
                seen = true;
                if (!str_eq(is->min_fixed, m[i].min_fixed)) {
                    fprintf(stderr, "    %s: min fixed %s\n", m[i].kind, is->min_fixed ? is->min_fixed : "(null)");
                    bad++;
                }
            }
        }
        bad += !seen;
        an_free(a);
    }
    CHECK_INT_EQ(bad, 0);
}

TEST(analyze_unparseable_create_is_counted_in_summary)
{
    analysis *a = an_new();
    an_add_sql(a, "schema/views/view.sql", "CREATE VIEW jv AS SELECT d IS JSON FROM t;\nCREATE VIEW ok AS SELECT 1;");
    an_run(a);
    size_t views = 0;
    for (size_t i = 0; i < an_objstat_count(a); i++)
        if (!strcmp(an_objstat_at(a, i)->object_type, "VIEW"))
            views = an_objstat_at(a, i)->count;
    an_free(a);
    CHECK_INT_EQ(views, 2);
}

TEST(analyze_summary_details_as_upstream)
{
    analysis *a = an_new();
    an_add_sql(a, "schema/tables/INDEXES_table.sql", "CREATE INDEX g ON t USING gin (d);\nCREATE EXTENSION hll;");
    an_run(a);
    bool gin = false, hll = false;
    for (size_t i = 0; i < an_objstat_count(a); i++) {
        const an_objstat *o = an_objstat_at(a, i);
        if (!strcmp(o->object_type, "INDEX"))
            gin = strstr(o->details, "https://github.com/yugabyte/yugabyte-db/issues/7850") != NULL;
        if (!strcmp(o->object_type, "EXTENSION"))
            hll = strstr(o->details, "2.18") != NULL;
    }
    an_free(a);
    CHECK(gin);
    CHECK(hll);
}

TEST(analyze_newer_literals_do_not_stop_the_file)
{
    /* 0x1F and 1_000 do not even lex in PostgreSQL 15: what follows them is still analysed. */
    analysis *a = an_new();
    an_add_sql(a, "schema/views/view.sql",
               "CREATE VIEW hx AS SELECT 0x1F, 1_000;\nCREATE UNLOGGED TABLE u (i int);\n"
               "CREATE TABLE b (t text DEFAULT 'oops);\nCREATE UNLOGGED TABLE never (i int);\n");
    an_run(a);
    bool hex = false, unlogged = false, broken = false, after = false;
    for (size_t i = 0; i < an_issue_count(a); i++) {
        const an_issue *is = an_issue_at(a, i);
        hex |= !strcmp(is->kind, "NON_DECIMAL_INTEGER_LITERAL") && !strcmp(is->object_name, "hx") && is->line == 1;
        unlogged |= !strcmp(is->kind, "UNLOGGED_TABLES") && !strcmp(is->object_name, "u") && is->line == 2;
        broken |= !strcmp(is->kind, "UNSUPPORTED_PG_SYNTAX") && !strcmp(is->object_name, "b") && is->line == 3 &&
                  strstr(is->reason, "cannot be read") != NULL;
        after |= !strcmp(is->object_name, "never");
    }
    an_free(a);
    CHECK(hex);
    CHECK(unlogged);
    CHECK(broken);
    /* An unterminated quote still ends what can be read: said in the reason, nothing invented after it. */
    CHECK(!after);
}

TEST(analyze_summary_counts_overloads_as_upstream)
{
    analysis *a = an_new();
    an_add_sql(a, "schema/functions/function.sql",
               "CREATE FUNCTION public.f(int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
               "CREATE FUNCTION public.f(text) RETURNS int LANGUAGE sql AS $$ SELECT pg_advisory_lock(1)::int $$;\n");
    an_run(a);
    an_report_meta m = {"1", "2", "", "", ""};
    cJSON *r = an_report_build(a, &m);
    const cJSON *obj = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "Summary"), "DatabaseObjects"), 0);
    bool ok = obj && !strcmp(cJSON_GetObjectItem(obj, "ObjectType")->valuestring, "FUNCTION") &&
              cJSON_GetObjectItem(obj, "TotalCount")->valueint == 2 &&
              cJSON_GetObjectItem(obj, "InvalidCount")->valueint == 1 &&
              !strcmp(cJSON_GetObjectItem(obj, "ObjectNames")->valuestring, "public.f, public.f");
    cJSON_Delete(r);
    an_free(a);
    CHECK(ok);
}
