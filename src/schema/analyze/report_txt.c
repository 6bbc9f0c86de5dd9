/* Plain-text rendering, for a terminal or a mail. */
#include "schema/analyze/report.h"

#include "core/util.h"

static const char *S(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

char *an_render_txt(const cJSON *r)
{
    strbuf sb = STRBUF_INIT;
    const cJSON *sum = cJSON_GetObjectItem(r, "Summary");
    const cJSON *issues = cJSON_GetObjectItem(r, "Issues");
    strbuf_append(&sb, "Schema analysis report\n======================\n\n");
    strbuf_appendf(&sb, "Voyager version:      %s\n", S(r, "VoyagerVersion"));
    strbuf_appendf(&sb, "Target DB version:    %s\n", S(r, "TargetDBVersion"));
    strbuf_appendf(&sb, "Database name:        %s\n", S(sum, "DbName"));
    strbuf_append(&sb, "Schema names:         ");
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(sum, "SchemaNames"))
        strbuf_appendf(&sb, "%s%s", i++ ? ", " : "", cJSON_IsString(it) ? it->valuestring : "");
    /* unknown when the schema files did not come from this migration's export schema */
    strbuf_appendf(&sb, "\nDatabase version:     %s\n",
                   *S(sum, "DbVersion") ? S(sum, "DbVersion") : "unknown");
    strbuf_appendf(&sb, "Migration complexity: %s\n\n", S(r, "MigrationComplexity"));

    strbuf_append(&sb, "Database objects\n----------------\n");
    strbuf_appendf(&sb, "%-16s %7s %7s  %s\n", "OBJECT TYPE", "TOTAL", "INVALID", "OBJECT NAMES");
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(sum, "DatabaseObjects"))
        strbuf_appendf(&sb, "%-16s %7d %7d  %s\n", S(it, "ObjectType"), cJSON_GetObjectItem(it, "TotalCount")->valueint,
                       cJSON_GetObjectItem(it, "InvalidCount")->valueint, S(it, "ObjectNames"));

    strbuf_appendf(&sb, "\nIssues (%d)\n----------\n", cJSON_GetArraySize(issues));
    i = 0;
    cJSON_ArrayForEach(it, issues)
    {
        strbuf_appendf(&sb, "\n%d. %s\n", ++i, S(it, "Reason"));
        strbuf_appendf(&sb, "   Issue type:    %s\n", S(it, "IssueType"));
        strbuf_appendf(&sb, "   Object:        %s %s\n", S(it, "ObjectType"), S(it, "ObjectName"));
        strbuf_appendf(&sb, "   File:          %s\n", S(it, "FilePath"));
        strbuf_appendf(&sb, "   SQL:           %s\n", S(it, "SqlStatement"));
        strbuf_appendf(&sb, "   Suggestion:    %s\n", S(it, "Suggestion"));
        if (*S(it, "GH"))
            strbuf_appendf(&sb, "   GitHub issue:  %s\n", S(it, "GH"));
        strbuf_appendf(&sb, "   Docs:          %s\n", S(it, "DocsLink"));
    }
    if (!i)
        strbuf_append(&sb, "No issues found: the schema needs no manual change.\n");
    return strbuf_detach(&sb);
}
