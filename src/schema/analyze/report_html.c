/*
 * HTML rendering: one self-contained page (inline CSS, no script, no external
 * asset) that a browser opens from a backup directory. Every value from the
 * schema is escaped.
 */
#include "schema/analyze/report.h"

#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static const char *S(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void esc(strbuf *sb, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': strbuf_append(sb, "&amp;"); break;
        case '<': strbuf_append(sb, "&lt;"); break;
        case '>': strbuf_append(sb, "&gt;"); break;
        case '"': strbuf_append(sb, "&quot;"); break;
        case '\'': strbuf_append(sb, "&#39;"); break;
        default: strbuf_append_char(sb, *s);
        }
    }
}

/* A link only for http(s) addresses: a schema cannot smuggle javascript: into href. */
static void link(strbuf *sb, const char *url)
{
    if (!str_starts_with(url, "https://") && !str_starts_with(url, "http://")) {
        esc(sb, url);
        return;
    }
    strbuf_append(sb, "<a href=\"");
    esc(sb, url);
    strbuf_append(sb, "\">");
    esc(sb, url);
    strbuf_append(sb, "</a>");
}

static void row2(strbuf *sb, const char *k, const char *v)
{
    strbuf_append(sb, "<tr><th>");
    esc(sb, k);
    strbuf_append(sb, "</th><td>");
    esc(sb, v);
    strbuf_append(sb, "</td></tr>\n");
}

static const char css[] =
    "body{font-family:Helvetica,Arial,sans-serif;margin:2em;color:#222}"
    "h1{color:#1a3e6f}h2{color:#1a3e6f;border-bottom:1px solid #ccc;padding-bottom:.2em}"
    "table{border-collapse:collapse;margin:1em 0;width:100%}"
    "th,td{border:1px solid #bbb;padding:.4em .6em;text-align:left;vertical-align:top}"
    "th{background:#eef2f7;width:14em}thead th{width:auto}"
    "pre{white-space:pre-wrap;margin:0;font-size:.9em}"
    ".issue{margin-bottom:1.5em}.LOW{color:#2a7a2a}.MEDIUM{color:#b36b00}.HIGH{color:#b00020}"
    ".num{text-align:right}";

static size_t count_issues(const cJSON *issues, const char *key, const char *value)
{
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, issues) if (!strcmp(S(it, key), value)) n++;
    return n;
}

/* Issue counts per distinct value of key, in order of first appearance. */
static void counts_table(strbuf *sb, const cJSON *issues, const char *key, const char *title)
{
    strbuf_appendf(sb, "<table><thead><tr><th>%s</th><th>Issues</th></tr></thead><tbody>\n", title);
    strlist seen = STRLIST_INIT;
    const cJSON *it;
    cJSON_ArrayForEach(it, issues)
    {
        const char *v = S(it, key);
        if (strlist_contains(&seen, v))
            continue;
        strlist_push(&seen, v);
        strbuf_append(sb, "<tr><td>");
        esc(sb, v);
        strbuf_appendf(sb, "</td><td class=\"num\">%zu</td></tr>\n", count_issues(issues, key, v));
    }
    if (!seen.count)
        strbuf_append(sb, "<tr><td colspan=\"2\">none</td></tr>\n");
    strlist_free(&seen);
    strbuf_append(sb, "</tbody></table>\n");
}

char *an_render_html(const cJSON *r)
{
    strbuf sb = STRBUF_INIT;
    const cJSON *sum = cJSON_GetObjectItem(r, "Summary");
    const cJSON *issues = cJSON_GetObjectItem(r, "Issues");
    strbuf_appendf(&sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<title>Schema analysis report</title>\n<style>%s</style>\n</head>\n<body>\n",
                   css);
    strbuf_append(&sb, "<h1>Schema analysis report</h1>\n<table>\n");
    row2(&sb, "Voyager version", S(r, "VoyagerVersion"));
    row2(&sb, "Target DB version", S(r, "TargetDBVersion"));
    row2(&sb, "Database name", S(sum, "DbName"));
    strbuf schemas = STRBUF_INIT;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(sum, "SchemaNames"))
    {
        if (schemas.len)
            strbuf_append(&schemas, ", ");
        strbuf_append(&schemas, cJSON_IsString(it) ? it->valuestring : "");
    }
    row2(&sb, "Schema names", strbuf_cstr(&schemas));
    strbuf_free(&schemas);
    row2(&sb, "Database version", S(sum, "DbVersion"));
    const char *cx = S(r, "MigrationComplexity");
    strbuf_append(&sb, "<tr><th>Migration complexity</th><td class=\"");
    esc(&sb, cx);
    strbuf_append(&sb, "\">");
    esc(&sb, cx);
    strbuf_append(&sb, "</td></tr>\n</table>\n");

    strbuf_append(&sb, "<h2>Database objects</h2>\n<table><thead><tr><th>Object type</th><th>Total</th>"
                       "<th>Invalid</th><th>Object names</th><th>Details</th></tr></thead><tbody>\n");
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(sum, "DatabaseObjects"))
    {
        strbuf_append(&sb, "<tr><td>");
        esc(&sb, S(it, "ObjectType"));
        strbuf_appendf(&sb, "</td><td class=\"num\">%d</td><td class=\"num\">%d</td><td>",
                       cJSON_GetObjectItem(it, "TotalCount")->valueint,
                       cJSON_GetObjectItem(it, "InvalidCount")->valueint);
        esc(&sb, S(it, "ObjectNames"));
        strbuf_append(&sb, "</td><td>");
        esc(&sb, S(it, "Details"));
        strbuf_append(&sb, "</td></tr>\n");
    }
    strbuf_append(&sb, "</tbody></table>\n");

    strbuf_appendf(&sb, "<h2>Issue summary</h2>\n<p>%d issue(s).</p>\n", cJSON_GetArraySize(issues));
    counts_table(&sb, issues, "IssueType", "Issue type");
    counts_table(&sb, issues, "ObjectType", "Object type");

    strbuf_append(&sb, "<h2>Issues</h2>\n");
    int n = 0;
    cJSON_ArrayForEach(it, issues)
    {
        strbuf_appendf(&sb, "<div class=\"issue\"><h3>%d. ", ++n);
        esc(&sb, S(it, "Reason"));
        strbuf_append(&sb, "</h3>\n<table>\n");
        row2(&sb, "Issue type", S(it, "IssueType"));
        row2(&sb, "Object type", S(it, "ObjectType"));
        row2(&sb, "Object name", S(it, "ObjectName"));
        row2(&sb, "Reason", S(it, "Reason"));
        strbuf_append(&sb, "<tr><th>SQL statement</th><td><pre>");
        esc(&sb, S(it, "SqlStatement"));
        strbuf_append(&sb, "</pre></td></tr>\n");
        row2(&sb, "File path", S(it, "FilePath"));
        row2(&sb, "Suggestion", S(it, "Suggestion"));
        strbuf_append(&sb, "<tr><th>GitHub issue</th><td>");
        link(&sb, S(it, "GH"));
        strbuf_append(&sb, "</td></tr>\n<tr><th>Docs link</th><td>");
        link(&sb, S(it, "DocsLink"));
        strbuf_append(&sb, "</td></tr>\n");
        const cJSON *mv = cJSON_GetObjectItem(it, "MinimumVersionsFixedIn");
        char *mvt = an_min_fixed_text(mv);
        row2(&sb, "Minimum versions fixed in", mvt);
        free(mvt);
        strbuf_append(&sb, "</table></div>\n");
    }
    if (!n)
        strbuf_append(&sb, "<p>No issues found: the schema needs no manual change.</p>\n");
    strbuf_append(&sb, "</body>\n</html>\n");
    return strbuf_detach(&sb);
}
