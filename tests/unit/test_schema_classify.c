/* Classification of pg_dump statements into schema/ files, and the splitter around it. */
#include "testlib.h"

#include "schema/pgdump.h"
#include "schema/schema_classify.h"
#include "schema/schema_names.h"
#include "schema/schema_objtype.h"
#include "schema/schema_split.h"
#include "schema/schema_sql.h"

#include <stdlib.h>
#include <string.h>

/* Classify sql alone (no context from other statements). */
static schema_class classify1(const char *sql, const schema_ctx *ctx)
{
    const cJSON *node;
    char *err = NULL;
    cJSON *root = schema_sql_parse(sql, &node, &err, NULL);
    schema_class c = {OBJ_COUNT, false};
    if (root)
        c = schema_classify(node, ctx);
    free(err);
    cJSON_Delete(root);
    return c;
}

TEST(schema_classify_object_kinds)
{
    schema_ctx ctx = SCHEMA_CTX_INIT;
    static const struct {
        const char *sql;
        schema_obj want;
    } cases[] = {
        {"CREATE SCHEMA \"MixedCase\"", OBJ_SCHEMA},
        {"CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public", OBJ_EXTENSION},
        {"CREATE COLLATION public.ci (provider = icu, locale = 'und', deterministic = false)", OBJ_COLLATION},
        {"CREATE TYPE public.mood AS ENUM ('a', 'b')", OBJ_TYPE},
        {"CREATE TYPE s.addr AS (street text)", OBJ_TYPE},
        {"CREATE TYPE public.fr AS RANGE (subtype = float8)", OBJ_TYPE},
        {"CREATE DOMAIN public.posint AS integer CHECK (VALUE > 0)", OBJ_DOMAIN},
        {"CREATE SEQUENCE public.s START 5", OBJ_SEQUENCE},
        {"ALTER SEQUENCE public.s RESTART 7", OBJ_SEQUENCE},
        {"SELECT pg_catalog.setval('public.s', 5, true)", OBJ_SEQUENCE},
        {"ALTER SEQUENCE public.s OWNED BY public.t.id", OBJ_TABLE},
        {"CREATE TABLE public.\"user\" (\"select\" int)", OBJ_TABLE},
        {"ALTER TABLE ONLY public.t ALTER COLUMN id SET DEFAULT nextval('public.s'::regclass)", OBJ_TABLE},
        {"ALTER TABLE public.t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME public.t_id_seq)", OBJ_TABLE},
        {"ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id)", OBJ_TABLE},
        {"ALTER TABLE ONLY public.t ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES public.u(id)", OBJ_TABLE},
        {"ALTER TABLE ONLY s.b ADD CONSTRAINT b_excl EXCLUDE USING gist (during WITH &&)", OBJ_TABLE},
        {"CREATE TABLE s.p1 PARTITION OF s.p FOR VALUES IN (1)", OBJ_PARTITION},
        {"ALTER TABLE ONLY s.p ATTACH PARTITION s.p1 FOR VALUES IN (1)", OBJ_PARTITION},
        {"CREATE FOREIGN TABLE public.ft (a int) SERVER srv", OBJ_FOREIGN_TABLE},
        {"CREATE SERVER srv FOREIGN DATA WRAPPER postgres_fdw", OBJ_FOREIGN_TABLE},
        {"CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$", OBJ_FUNCTION},
        {"CREATE AGGREGATE public.agg(int) (sfunc = int4pl, stype = int)", OBJ_FUNCTION},
        {"CREATE PROCEDURE public.p() LANGUAGE sql AS $$ SELECT 1 $$", OBJ_PROCEDURE},
        {"CREATE VIEW public.v AS SELECT 1", OBJ_VIEW},
        {"CREATE MATERIALIZED VIEW s.m AS SELECT 1 WITH NO DATA", OBJ_MVIEW},
        {"CREATE RULE r AS ON DELETE TO public.t DO INSTEAD NOTHING", OBJ_RULE},
        {"COMMENT ON TABLE public.t IS 'x; y'", OBJ_COMMENT},
        {"CREATE POLICY p ON public.t FOR SELECT USING (true)", OBJ_POLICY},
        {"ALTER TABLE public.t ENABLE ROW LEVEL SECURITY", OBJ_POLICY},
        {"CREATE INDEX i ON public.t USING btree (a)", OBJ_INDEX},
        {"ALTER TABLE public.t CLUSTER ON i", OBJ_INDEX},
        {"CREATE TRIGGER tr BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f()", OBJ_TRIGGER},
        {"CREATE CONSTRAINT TRIGGER tr AFTER INSERT ON public.t DEFERRABLE FOR EACH ROW EXECUTE FUNCTION public.f()", OBJ_TRIGGER},
        {"ALTER TABLE public.t DISABLE TRIGGER tr", OBJ_TRIGGER},
        {"CREATE EVENT TRIGGER \"Ddl\" ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION a.f()",
         OBJ_TRIGGER},
        {"ALTER EVENT TRIGGER \"Ddl\" DISABLE", OBJ_TRIGGER},
        {"COMMENT ON EVENT TRIGGER \"Ddl\" IS 'x'", OBJ_COMMENT},
        {"CREATE CAST (int AS text) WITH INOUT", OBJ_UNCATEGORIZED},
        {"CREATE OPERATOR public.=== (leftarg = int, rightarg = int, function = int4eq)", OBJ_UNCATEGORIZED},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        schema_class c = classify1(cases[i].sql, &ctx);
        if (c.obj != cases[i].want || c.session) {
            test_fail(__FILE__, __LINE__, "%s: got %s, want %s", cases[i].sql, schema_obj_name(c.obj),
                      schema_obj_name(cases[i].want));
            break;
        }
    }
    schema_ctx_free(&ctx);
}

TEST(schema_classify_session_statements_dropped)
{
    schema_ctx ctx = SCHEMA_CTX_INIT;
    CHECK(classify1("SET statement_timeout = 0", &ctx).session);
    CHECK(classify1("SET default_table_access_method = heap", &ctx).session);
    CHECK(classify1("SELECT pg_catalog.set_config('search_path', '', false)", &ctx).session);
    CHECK(!classify1("SELECT pg_catalog.setval('s', 1)", &ctx).session);
    schema_ctx_free(&ctx);
}

/* What the first pass learns changes where later statements go. */
TEST(schema_classify_partition_context)
{
    const char *dump[] = {
        "CREATE TABLE s.p (id int, r text) PARTITION BY LIST (r)",
        "CREATE TABLE s.p_eu (id int, r text)",
        "ALTER TABLE ONLY s.p ATTACH PARTITION s.p_eu FOR VALUES IN ('eu')",
        "CREATE INDEX p_id_idx ON ONLY s.p USING btree (id)",
    };
    schema_ctx ctx = SCHEMA_CTX_INIT;
    for (size_t i = 0; i < ARRAY_LEN(dump); i++) {
        const cJSON *node;
        char *err = NULL;
        cJSON *root = schema_sql_parse(dump[i], &node, &err, NULL);
        CHECK(root != NULL);
        schema_ctx_observe(&ctx, node);
        cJSON_Delete(root);
    }
    CHECK_INT_EQ(classify1(dump[0], &ctx).obj, OBJ_TABLE);
    /* pg_dump 15 creates a partition as a plain table, then attaches it */
    CHECK_INT_EQ(classify1(dump[1], &ctx).obj, OBJ_PARTITION);
    CHECK_INT_EQ(classify1("ALTER TABLE ONLY s.p ADD CONSTRAINT p_pkey PRIMARY KEY (id, r)", &ctx).obj, OBJ_PARTITION);
    CHECK_INT_EQ(classify1("ALTER TABLE ONLY s.p_eu ADD CONSTRAINT p_eu_pkey PRIMARY KEY (id, r)", &ctx).obj, OBJ_PARTITION);
    CHECK_INT_EQ(classify1("ALTER TABLE ONLY s.p_eu ALTER COLUMN id SET DEFAULT 1", &ctx).obj, OBJ_PARTITION);
    CHECK_INT_EQ(classify1("ALTER TABLE ONLY s.p ALTER COLUMN id SET DEFAULT 1", &ctx).obj, OBJ_TABLE);
    CHECK_INT_EQ(classify1("ALTER SEQUENCE s.q OWNED BY s.p_eu.id", &ctx).obj, OBJ_PARTITION);
    /* index attach follows whoever made the parent index */
    CHECK_INT_EQ(classify1("ALTER INDEX s.p_pkey ATTACH PARTITION s.p_eu_pkey", &ctx).obj, OBJ_PARTITION);
    CHECK_INT_EQ(classify1("ALTER INDEX s.p_id_idx ATTACH PARTITION s.p_eu_id_idx", &ctx).obj, OBJ_INDEX);
    /* foreign keys stay in table.sql (import applies them after every table) */
    CHECK_INT_EQ(classify1("ALTER TABLE s.p ADD CONSTRAINT p_fk FOREIGN KEY (id) REFERENCES s.x(id)", &ctx).obj, OBJ_TABLE);
    schema_ctx_free(&ctx);
}

TEST(schema_stmt_predicates)
{
    const cJSON *node;
    char *err = NULL;
    cJSON *root = schema_sql_parse("ALTER TABLE ONLY \"MixedCase\".\"Order\" ADD CONSTRAINT f FOREIGN KEY (a) "
                                   "REFERENCES public.\"user\"(\"select\") DEFERRABLE", &node, &err, NULL);
    CHECK(root && schema_stmt_is_fk(node) && schema_stmt_exists_state(node) == NULL);
    cJSON_Delete(root);
    root = schema_sql_parse("ALTER TABLE ONLY t ADD CONSTRAINT t_pkey PRIMARY KEY (a)", &node, &err, NULL);
    CHECK(root && str_eq(schema_stmt_exists_state(node), "42P16") && !schema_stmt_is_fk(node));
    cJSON_Delete(root);
    root = schema_sql_parse("CREATE MATERIALIZED VIEW \"Sales\".\"Tot\" AS SELECT 1 WITH NO DATA", &node, &err, NULL);
    CHECK(root != NULL);
    char *name = schema_stmt_mview_name(node);
    CHECK_STR_EQ(name, "\"Sales\".\"Tot\"");
    free(name);
    cJSON_Delete(root);
    /* statements naming what the post-data run creates wait for it; nothing else does */
    static const struct {
        const char *sql;
        bool want;
    } post[] = {{"COMMENT ON INDEX s.i IS 'x'", true},
                {"COMMENT ON TRIGGER tr ON s.t IS 'x'", true},
                {"COMMENT ON EVENT TRIGGER e IS 'x'", true},
                {"COMMENT ON CONSTRAINT c ON s.t IS 'x'", true},
                {"COMMENT ON CONSTRAINT c ON DOMAIN s.d IS 'x'", true},
                {"ALTER INDEX s.p_i ATTACH PARTITION s.c_i", true},
                {"ALTER INDEX s.i ALTER COLUMN 1 SET STATISTICS 100", true},
                {"ALTER TABLE s.t CLUSTER ON i", true},
                {"ALTER TABLE ONLY s.t REPLICA IDENTITY USING INDEX i", true},
                {"ALTER TABLE s.t DISABLE TRIGGER tr", true},
                {"ALTER TABLE s.t ENABLE ALWAYS TRIGGER tr", true},
                {"ALTER TABLE s.t VALIDATE CONSTRAINT c", true},
                {"COMMENT ON TABLE s.t IS 'x'", false},
                {"COMMENT ON COLUMN s.t.a IS 'x'", false},
                {"CREATE TABLE s.h (a ext.hstore)", false},
                {"CREATE POLICY p ON s.t TO reader USING (true)", false},
                {"CREATE VIEW s.v AS SELECT 1", false},
                {"ALTER TABLE ONLY s.t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES s.u(id)", false},
                {"ALTER TABLE ONLY s.t REPLICA IDENTITY FULL", false},
                {"CREATE INDEX i ON s.t (a)", false}};
    for (size_t i = 0; i < ARRAY_LEN(post); i++) {
        root = schema_sql_parse(post[i].sql, &node, &err, NULL);
        CHECK(root && schema_stmt_on_post_data(node) == post[i].want);
        cJSON_Delete(root);
    }
    root = schema_sql_parse("CREATE TABLE (", &node, &err, NULL);
    CHECK(root == NULL && err != NULL);
    free(err);
}

/*
 * Per statement kind: applied after the data (pg_dump's post-data constraints,
 * whichever file holds them), and the code that means "already exists" for
 * that kind only (never 23505 in general).
 */
TEST(schema_stmt_kind_predicates)
{
    static const struct {
        const char *sql;
        bool after_data;
        const char *exists;
    } cases[] = {
        {"ALTER TABLE public.t ADD CONSTRAINT qty_pos CHECK ((qty > 0)) NOT VALID", true, NULL},
        {"ALTER TABLE ONLY public.c ADD CONSTRAINT c_fk FOREIGN KEY (p) REFERENCES public.p(id) NOT VALID", true, NULL},
        {"ALTER DOMAIN public.d ADD CONSTRAINT d_pos CHECK ((VALUE > 0)) NOT VALID", true, NULL},
        {"ALTER TABLE public.t FORCE ROW LEVEL SECURITY", true, NULL},
        {"ALTER TABLE public.t ENABLE ROW LEVEL SECURITY", false, NULL},
        {"ALTER TABLE public.t ADD CONSTRAINT qty_pos CHECK ((qty > 0))", false, NULL},
        {"ALTER TABLE ONLY public.c ADD CONSTRAINT c_fk FOREIGN KEY (p) REFERENCES public.p(id)", false, NULL},
        {"ALTER DOMAIN public.d ADD CONSTRAINT d_pos CHECK ((VALUE > 0))", false, NULL},
        {"CREATE DOMAIN public.d AS integer CONSTRAINT d_pos CHECK ((VALUE > 0))", false, NULL},
        {"ALTER DOMAIN public.d SET NOT NULL", false, NULL},
        {"CREATE TABLE public.t (qty int CHECK (qty > 0))", false, NULL},
        {"ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id)", false, "42P16"},
        {"ALTER TABLE ONLY public.ev ATTACH PARTITION public.ev_a FOR VALUES IN ('a')", false, "42809"},
        {"CREATE TEXT SEARCH CONFIGURATION public.cfg (PARSER = pg_catalog.\"default\")", false, "23505"},
        {"ALTER TEXT SEARCH CONFIGURATION public.cfg ADD MAPPING FOR asciiword WITH simple", false, "23505"},
        {"ALTER TEXT SEARCH CONFIGURATION public.cfg ALTER MAPPING FOR asciiword WITH simple", false, NULL},
        {"CREATE TEXT SEARCH DICTIONARY public.d (TEMPLATE = pg_catalog.simple)", false, NULL},
        {"ALTER TABLE ONLY public.t ADD CONSTRAINT t_u UNIQUE (id)", false, NULL},
        {"ALTER INDEX public.p_i ATTACH PARTITION public.c_i", false, NULL},
        {"INSERT INTO public.t VALUES (1)", false, NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const cJSON *node;
        char *err = NULL;
        cJSON *root = schema_sql_parse(cases[i].sql, &node, &err, NULL);
        const char *got = root ? schema_stmt_exists_state(node) : "(parse error)";
        if (!(got == cases[i].exists || (got && cases[i].exists && strcmp(got, cases[i].exists) == 0)))
            test_fail(__FILE__, __LINE__, "%s: exists code %s, want %s", cases[i].sql, got ? got : "NULL",
                      cases[i].exists ? cases[i].exists : "NULL");
        if (!root || schema_stmt_after_data(node) != cases[i].after_data)
            test_fail(__FILE__, __LINE__, "%s: want %s", cases[i].sql, cases[i].after_data ? "after data" : "before");
        free(err);
        cJSON_Delete(root);
    }
    const cJSON *node;
    char *err = NULL, *parent, *child;
    cJSON *root = schema_sql_parse("ALTER TABLE ONLY \"My S\".ev ATTACH PARTITION ev_a DEFAULT", &node, &err, NULL);
    CHECK(root && schema_stmt_attach_names(node, &parent, &child));
    CHECK_STR_EQ(parent, "\"My S\".\"ev\"");
    CHECK_STR_EQ(child, "\"ev_a\"");
    free(parent);
    free(child);
    cJSON_Delete(root);
    root = schema_sql_parse("ALTER INDEX s.p_i ATTACH PARTITION s.c_i", &node, &err, NULL);
    CHECK(root && !schema_stmt_attach_names(node, &parent, &child) && !parent && !child);
    cJSON_Delete(root);
}

TEST(schema_split_keeps_text_and_lines)
{
    const char *sql = "-- header\n\nCREATE TABLE \"MixedCase\".\"Order\" (a int);\n"
                      "/* c /* nested */ */ CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\n"
                      "BEGIN RETURN 1; -- a; b\nEND $$;\n"
                      "CREATE FUNCTION g() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n";
    schema_stmts s;
    char *err = NULL;
    CHECK(schema_sql_split(sql, false, &s, &err));
    CHECK_INT_EQ(s.count, 3);
    CHECK_STR_EQ(s.items[0].sql, "CREATE TABLE \"MixedCase\".\"Order\" (a int)");
    CHECK_INT_EQ(s.items[0].line, 3);
    CHECK(str_starts_with(s.items[1].sql, "CREATE FUNCTION f()"));
    CHECK(str_ends_with(s.items[1].sql, "END $$"));
    CHECK_INT_EQ(s.items[1].line, 4);
    CHECK(str_ends_with(s.items[2].sql, "SELECT 2; END"));
    schema_stmts_free(&s);
    CHECK(!schema_sql_split("CREATE TABLE a (x int);\nCREATE TABLEE b (y int);\n", false, &s, &err));
    CHECK(str_starts_with(err, "line 2: syntax error"));
    free(err);
}

TEST(schema_split_dump_into_files)
{
    const char *dump = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc123\n\n"
                       "SET statement_timeout = 0;\n"
                       "SELECT pg_catalog.set_config('search_path', '', false);\n"
                       "CREATE SCHEMA sales;\n"
                       "COMMENT ON SCHEMA sales IS 'x';\n"
                       "CREATE TABLE sales.t (id int);\n"
                       "CREATE INDEX t_i ON sales.t USING btree (id);\n"
                       "CREATE TRIGGER tr AFTER INSERT ON sales.t FOR EACH ROW EXECUTE FUNCTION sales.f();\n"
                       "\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc123\n\n";
    schema_split_opts o = {.comments = false};
    for (int t = 0; t < OBJ_COUNT; t++)
        o.include[t] = true;
    o.include[OBJ_TRIGGER] = false;
    schema_split_result r = {0};
    char *err = NULL;
    CHECK(schema_split_dump(dump, &o, &r, &err));
    CHECK_INT_EQ(r.session_dropped, 2);
    CHECK_INT_EQ(r.unparsed, 0);
    CHECK_STR_EQ(strbuf_cstr(&r.files[OBJ_SCHEMA]), "CREATE SCHEMA sales;\n\n");
    CHECK_STR_EQ(strbuf_cstr(&r.files[OBJ_TABLE]), "CREATE TABLE sales.t (id int);\n\n");
    CHECK_INT_EQ(r.counts[OBJ_INDEX], 1);
    CHECK_INT_EQ(r.counts[OBJ_COMMENT], 0); /* --comments-on-objects false */
    CHECK_INT_EQ(r.counts[OBJ_TRIGGER], 0); /* excluded type */
    schema_split_result_free(&r);

    /* statements from elsewhere (event triggers) are split after the dump's, past \unrestrict */
    o.include[OBJ_TRIGGER] = true;
    o.extra = "CREATE EVENT TRIGGER e ON sql_drop EXECUTE FUNCTION sales.f();\n\n";
    memset(&r, 0, sizeof r);
    CHECK(schema_split_dump(dump, &o, &r, &err));
    CHECK_INT_EQ(r.unparsed, 0);
    CHECK_INT_EQ(r.counts[OBJ_TRIGGER], 2);
    CHECK(strstr(strbuf_cstr(&r.files[OBJ_TRIGGER]), "CREATE EVENT TRIGGER e ON sql_drop") != NULL);
    schema_split_result_free(&r);
}

TEST(schema_objtype_names_and_lists)
{
    schema_obj t;
    CHECK(schema_obj_parse("table", &t) && t == OBJ_TABLE);
    CHECK(schema_obj_parse(" Foreign_Table ", &t) && t == OBJ_FOREIGN_TABLE);
    CHECK(schema_obj_parse("FOREIGN TABLE", &t) && t == OBJ_FOREIGN_TABLE);
    CHECK(schema_obj_parse("mview", &t) && t == OBJ_MVIEW);
    CHECK(!schema_obj_parse("tabel", &t));
    CHECK_STR_EQ(schema_obj_file(OBJ_INDEX), "tables/INDEXES_table.sql");
    CHECK(schema_obj_is_post_data(OBJ_INDEX) && schema_obj_is_post_data(OBJ_TRIGGER));
    CHECK(!schema_obj_is_post_data(OBJ_TABLE));
    schema_obj order[OBJ_COUNT];
    CHECK_INT_EQ(schema_obj_parse_list("view,TABLE,view", "object-type-list", order), 3);
    CHECK(order[0] == OBJ_VIEW && order[1] == OBJ_TABLE && order[2] == OBJ_PARTITION);
    CHECK(schema_obj_parse("row security", &t) && t == OBJ_POLICY);
    CHECK(schema_obj_parse("AGGREGATE", &t) && t == OBJ_FUNCTION);
}

TEST(schema_names_case_rules)
{
    strlist l = STRLIST_INIT;
    const char *bad = NULL;
    CHECK(schema_names_parse("public, Sales ,\"MixedCase\",\"a,\"\"b\"", &l, &bad));
    CHECK_INT_EQ(l.count, 4);
    CHECK_STR_EQ(l.items[0], "public");
    CHECK_STR_EQ(l.items[1], "sales");
    CHECK_STR_EQ(l.items[2], "MixedCase");
    CHECK_STR_EQ(l.items[3], "a,\"b");
    strlist_free(&l);
    CHECK(!schema_names_parse("\"open", &l, &bad));
    strlist_free(&l);
    CHECK(!schema_names_parse("a,,b", &l, &bad));
    strlist_free(&l);
    /* as typed, for --source-db-schema's exact-then-case-insensitive lookup */
    bool *quoted = NULL;
    CHECK(schema_names_parse_typed("public, CaseSensitiveSchema ,\"MixedCase\",MixedCase,public", &l, &quoted, &bad));
    CHECK_INT_EQ(l.count, 4);
    CHECK_STR_EQ(l.items[1], "CaseSensitiveSchema");
    CHECK(!quoted[0] && !quoted[1] && quoted[2] && !quoted[3]);
    CHECK_STR_EQ(l.items[3], "MixedCase");
    strlist_free(&l);
    free(quoted);
    quoted = NULL;
    CHECK(!schema_names_parse_typed("a,\"b", &l, &quoted, &bad));
    strlist_free(&l);
    free(quoted);
    char *p = pgdump_exact_pattern("we\"ird");
    CHECK_STR_EQ(p, "\"we\"\"ird\"");
    free(p);
}
