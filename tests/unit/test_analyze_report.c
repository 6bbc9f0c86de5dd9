/* analyze-schema reports: complexity rule, the JSON document, escaping in html/xml, reading a schema dir. */
#include "testlib.h"

#include "core/fsutil.h"
#include "core/util.h"
#include "schema/analyze/analyze.h"
#include "schema/analyze/report.h"

#include <stdlib.h>
#include <sys/stat.h>

static analysis *run(const char *sql)
{
    analysis *a = an_new();
    an_add_sql(a, "schema/x.sql", sql);
    an_run(a);
    return a;
}

TEST(analyze_complexity_levels)
{
    analysis *a = run("CREATE TABLE t (p point);"); /* a caveat only */
    const char *c1 = an_migration_complexity(a);
    an_free(a);
    a = run("CREATE UNLOGGED TABLE t (i int);");
    const char *c2 = an_migration_complexity(a);
    an_free(a);
    a = run("CREATE TABLE t (i int, x xml);");
    const char *c3 = an_migration_complexity(a);
    an_free(a);
    strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 21; i++)
        strbuf_appendf(&sb, "CREATE UNLOGGED TABLE t%d (i int);\n", i);
    a = run(strbuf_cstr(&sb));
    const char *c4 = an_migration_complexity(a);
    an_free(a);
    strbuf_free(&sb);
    CHECK_STR_EQ(c1, "LOW");
    CHECK_STR_EQ(c2, "MEDIUM");
    CHECK_STR_EQ(c3, "HIGH");
    CHECK_STR_EQ(c4, "HIGH");
}

TEST(analyze_report_document_has_every_field)
{
    analysis *a = run("CREATE UNLOGGED TABLE public.u (i int);\nCREATE TABLE public.ok (i int);");
    an_report_meta m = {"1.2.3", "2.25.0.0", "db", "15.1", "public, s2"};
    cJSON *r = an_report_build(a, &m);
    const cJSON *sum = cJSON_GetObjectItem(r, "Summary");
    const cJSON *obj = cJSON_GetArrayItem(cJSON_GetObjectItem(sum, "DatabaseObjects"), 0);
    const cJSON *is = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "Issues"), 0);
    bool ok = !strcmp(cJSON_GetObjectItem(r, "VoyagerVersion")->valuestring, "1.2.3") &&
              !strcmp(cJSON_GetObjectItem(r, "TargetDBVersion")->valuestring, "2.25.0.0") &&
              !strcmp(cJSON_GetObjectItem(r, "MigrationComplexity")->valuestring, "MEDIUM") &&
              cJSON_GetArraySize(cJSON_GetObjectItem(sum, "SchemaNames")) == 2 &&
              !strcmp(cJSON_GetArrayItem(cJSON_GetObjectItem(sum, "SchemaNames"), 1)->valuestring, "s2") &&
              !strcmp(cJSON_GetObjectItem(obj, "ObjectType")->valuestring, "TABLE") &&
              cJSON_GetObjectItem(obj, "TotalCount")->valueint == 2 &&
              cJSON_GetObjectItem(obj, "InvalidCount")->valueint == 1 &&
              !strcmp(cJSON_GetObjectItem(obj, "ObjectNames")->valuestring, "public.u, public.ok") &&
              cJSON_IsString(cJSON_GetObjectItem(obj, "Details"));
    const char *keys[] = {"IssueType", "ObjectType", "ObjectName", "Reason", "SqlStatement", "FilePath",
                          "Suggestion", "GH", "DocsLink"};
    for (size_t i = 0; i < ARRAY_LEN(keys); i++)
        ok = ok && cJSON_IsString(cJSON_GetObjectItem(is, keys[i]));
    /* UNLOGGED is fixed in two release series (upstream's map, series to first fixed version). */
    const cJSON *mv = cJSON_GetObjectItem(is, "MinimumVersionsFixedIn");
    ok = ok && cJSON_GetArraySize(mv) == 2 &&
         !strcmp(cJSON_GetObjectItem(mv, "2024.2")->valuestring, "2024.2.0.0") &&
         !strcmp(cJSON_GetObjectItem(mv, "2.25")->valuestring, "2.25.0.0") &&
         !strcmp(cJSON_GetObjectItem(sum, "Description")->valuestring,
                 "Objects that will be created on the target YugabyteDB.");
    cJSON_Delete(r);
    an_free(a);
    CHECK(ok);
}

TEST(analyze_report_renderers_escape)
{
    analysis *a = run("CREATE UNLOGGED TABLE public.\"<i>&'\x01\" (i int);");
    an_report_meta m = {"1", "2", "", "", ""};
    cJSON *r = an_report_build(a, &m);
    char *html = an_report_render(r, "html");
    char *xml = an_report_render(r, "xml");
    char *txt = an_report_render(r, "txt");
    char *json = an_report_render(r, "JSON");
    char *none = an_report_render(r, "pdf");
    bool ok = html && xml && txt && json && !none;
    ok = ok && strstr(html, "public.&lt;i&gt;&amp;&#39;") && !strstr(html, "<i>") && !strstr(html, "<script") &&
         strstr(html, "<style>") && strstr(html, "Database objects");
    ok = ok && str_starts_with(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SchemaAnalysisReport>") &&
         strstr(xml, "public.&lt;i&gt;&amp;&apos;\xEF\xBF\xBD</ObjectName>") && !strchr(xml, '\x01') &&
         strstr(xml, "<MinimumVersionsFixedIn>2024.2: 2024.2.0.0, 2.25: 2.25.0.0</MinimumVersionsFixedIn>") && strstr(xml, "<Issue>");
    ok = ok && strstr(txt, "UNLOGGED tables are not supported yet") && strstr(json, "\"Issues\"");
    free(html);
    free(xml);
    free(txt);
    free(json);
    cJSON_Delete(r);
    an_free(a);
    CHECK(ok);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char *p = xasprintf("%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    *slash = 0;
    fs_mkdir_p(p, 0700);
    *slash = '/';
    fs_write_atomic(p, text, strlen(text));
    free(p);
}

TEST(analyze_reads_schema_dir_sorted_without_failed_sql)
{
    char *ed = test_tmpdir();
    char *schema = xasprintf("%s/schema", ed);
    write_file(ed, "schema/views/view.sql", "CREATE VIEW v AS SELECT xmin FROM t;\n");
    write_file(ed, "schema/tables/table.sql", "CREATE UNLOGGED TABLE t (i int);\n");
    write_file(ed, "schema/failed.sql", "CREATE UNLOGGED TABLE f (i int);\n");
    write_file(ed, "schema/tables/notes.txt", "not sql");
    analysis *a = an_new();
    int n = an_add_dir(a, schema, ed);
    an_run(a);
    size_t issues = an_issue_count(a);
    bool ok = n == 2 && issues == 2 && !strcmp(an_issue_at(a, 0)->file_path, "schema/tables/table.sql") &&
              !strcmp(an_issue_at(a, 1)->file_path, "schema/views/view.sql");
    an_free(a);
    free(schema);
    free(ed);
    CHECK_INT_EQ(issues, 2);
    CHECK(ok);
}

TEST(analyze_report_text_is_valid_utf8)
{
    /* A LATIN1 dump: the é of "café" is one byte 0xE9. */
    analysis *a = run("CREATE UNLOGGED TABLE public.caf\xe9 (i int);\n");
    bool ok = an_issue_count(a) == 1 && !strcmp(an_issue_at(a, 0)->object_name, "public.caf\xEF\xBF\xBD") &&
              strstr(an_issue_at(a, 0)->sql, "caf\xEF\xBF\xBD (") && an_objstat_count(a) == 1 &&
              !strcmp(an_objstat_at(a, 0)->names[0], "public.caf\xEF\xBF\xBD");
    an_report_meta m = {"1", "2", "", "", ""};
    cJSON *r = an_report_build(a, &m);
    const cJSON *sum = cJSON_GetObjectItem(r, "Summary");
    const cJSON *obj = cJSON_GetArrayItem(cJSON_GetObjectItem(sum, "DatabaseObjects"), 0);
    ok = ok && cJSON_GetObjectItem(obj, "InvalidCount")->valueint == 1;
    cJSON_Delete(r);
    an_free(a);
    CHECK(ok);
}
