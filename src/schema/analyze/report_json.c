/* The report document (cJSON) and its JSON rendering. */
#include "schema/analyze/report.h"

#include "core/util.h"

#include <string.h>

/* Issues that need a manual change: every category but caveats and live-migration-only limits. */
static bool needs_change(const an_issue *is)
{
    return strcmp(is->issue_type, AN_MIGRATION_CAVEATS) != 0 && strcmp(is->issue_type, AN_LIVE_DATATYPES) != 0 &&
           strcmp(is->issue_type, AN_LIVE_FB_FF_DATATYPES) != 0;
}

/*
 * LOW: nothing needs a manual change (caveats, live-migration limits, or nothing).
 * HIGH: more than 20 statements need a change, or a column type YugabyteDB does
 * not have (the data itself must be converted).
 * MEDIUM: anything in between.
 */
const char *an_migration_complexity(const analysis *a)
{
    size_t n = 0;
    bool datatype = false;
    for (size_t i = 0; i < an_issue_count(a); i++) {
        const an_issue *is = an_issue_at(a, i);
        if (!needs_change(is))
            continue;
        n++;
        if (!strcmp(is->issue_type, AN_UNSUPPORTED_DATATYPES))
            datatype = true;
    }
    if (n == 0)
        return "LOW";
    return n > 20 || datatype ? "HIGH" : "MEDIUM";
}

/* Constraint issues are named "table, constraint: (name)": they count for the table. */
static bool names_object(const char *issue_name, const char *object)
{
    size_t n = strlen(object);
    return !strncmp(issue_name, object, n) && (!issue_name[n] || str_starts_with(issue_name + n, ", constraint: ("));
}

static cJSON *object_entry(const analysis *a, const an_objstat *o)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "ObjectType", o->object_type);
    cJSON_AddNumberToObject(e, "TotalCount", (double)o->count);
    /* Invalid: objects of this type with at least one issue of any category, as upstream counts them. */
    size_t invalid = 0;
    strbuf names = STRBUF_INIT;
    for (size_t n = 0; n < o->count; n++) {
        if (n)
            strbuf_append(&names, ", ");
        strbuf_append(&names, o->names[n]);
        /* Invalid objects are counted by name, once (upstream keys them by name). */
        bool seen = false;
        for (size_t m = 0; m < n && !seen; m++)
            seen = !strcmp(o->names[m], o->names[n]);
        for (size_t i = 0; !seen && i < an_issue_count(a); i++) {
            const an_issue *is = an_issue_at(a, i);
            if (!strcmp(is->object_type, o->object_type) && names_object(is->object_name, o->names[n])) {
                invalid++;
                break;
            }
        }
    }
    cJSON_AddNumberToObject(e, "InvalidCount", (double)invalid);
    cJSON_AddStringToObject(e, "ObjectNames", strbuf_cstr(&names));
    strbuf_free(&names);
    cJSON_AddStringToObject(e, "Details", o->details ? o->details : "");
    return e;
}

/* {"2.25": "2.25.0.0", ...} from "2.25=2.25.0.0;...": upstream's map of release series to first fixed version. */
static cJSON *min_fixed_map(const char *pairs)
{
    cJSON *o = cJSON_CreateObject();
    strlist l = STRLIST_INIT;
    strlist_split(&l, pairs, ';');
    for (size_t i = 0; i < l.count; i++) {
        char *eq = strchr(l.items[i], '=');
        if (!eq)
            continue;
        *eq = 0;
        cJSON_AddStringToObject(o, l.items[i], eq + 1);
    }
    strlist_free(&l);
    return o;
}

cJSON *an_report_build(const analysis *a, const an_report_meta *m)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "VoyagerVersion", m->voyager_version ? m->voyager_version : "");
    cJSON_AddStringToObject(r, "TargetDBVersion", m->target_db_version ? m->target_db_version : "");
    cJSON_AddStringToObject(r, "MigrationComplexity", an_migration_complexity(a));
    cJSON *sum = cJSON_AddObjectToObject(r, "Summary");
    cJSON_AddStringToObject(sum, "Description", "Objects that will be created on the target YugabyteDB.");
    cJSON_AddStringToObject(sum, "DbName", m->db_name ? m->db_name : "");
    cJSON *schemas = cJSON_AddArrayToObject(sum, "SchemaNames");
    strlist sl = STRLIST_INIT;
    strlist_split(&sl, m->schema_names ? m->schema_names : "", ',');
    for (size_t i = 0; i < sl.count; i++)
        cJSON_AddItemToArray(schemas, cJSON_CreateString(sl.items[i]));
    strlist_free(&sl);
    cJSON_AddStringToObject(sum, "DbVersion", m->db_version ? m->db_version : "");
    cJSON *objs = cJSON_AddArrayToObject(sum, "DatabaseObjects");
    for (size_t i = 0; i < an_objstat_count(a); i++)
        cJSON_AddItemToArray(objs, object_entry(a, an_objstat_at(a, i)));
    cJSON *issues = cJSON_AddArrayToObject(r, "Issues");
    for (size_t i = 0; i < an_issue_count(a); i++) {
        const an_issue *is = an_issue_at(a, i);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "IssueType", is->issue_type);
        cJSON_AddStringToObject(e, "ObjectType", is->object_type);
        cJSON_AddStringToObject(e, "ObjectName", is->object_name);
        cJSON_AddStringToObject(e, "Reason", is->reason);
        cJSON_AddStringToObject(e, "SqlStatement", is->sql);
        cJSON_AddStringToObject(e, "FilePath", is->file_path);
        cJSON_AddStringToObject(e, "Suggestion", is->suggestion);
        cJSON_AddStringToObject(e, "GH", is->gh);
        cJSON_AddStringToObject(e, "DocsLink", is->docs_link);
        if (is->min_fixed)
            cJSON_AddItemToObject(e, "MinimumVersionsFixedIn", min_fixed_map(is->min_fixed));
        else
            cJSON_AddNullToObject(e, "MinimumVersionsFixedIn");
        cJSON_AddItemToArray(issues, e);
    }
    return r;
}

char *an_min_fixed_text(const cJSON *mv)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "");
    const cJSON *v;
    const cJSON *map = cJSON_IsObject(mv) ? mv : NULL;
    cJSON_ArrayForEach(v, map)
    {
        if (sb.len)
            strbuf_append(&sb, ", ");
        strbuf_appendf(&sb, "%s: %s", v->string, cJSON_IsString(v) ? v->valuestring : "");
    }
    return strbuf_detach(&sb);
}

char *an_render_json(const cJSON *report)
{
    char *s = cJSON_Print(report);
    if (!s)
        return NULL;
    char *out = xasprintf("%s\n", s);
    cJSON_free(s);
    return out;
}

char *an_report_render(const cJSON *report, const char *format)
{
    if (str_case_eq(format, "json"))
        return an_render_json(report);
    if (str_case_eq(format, "html"))
        return an_render_html(report);
    if (str_case_eq(format, "txt"))
        return an_render_txt(report);
    if (str_case_eq(format, "xml"))
        return an_render_xml(report);
    return NULL;
}
