/*
 * XML rendering: the JSON document's structure, element for member
 * (<SchemaAnalysisReport><VoyagerVersion>..., arrays as repeated children).
 * Text is escaped, and characters XML 1.0 forbids (control bytes a schema
 * could hold in a string literal) are written as U+FFFD.
 */
#include "schema/analyze/report.h"

#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static void esc(strbuf *sb, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': strbuf_append(sb, "&amp;"); break;
        case '<': strbuf_append(sb, "&lt;"); break;
        case '>': strbuf_append(sb, "&gt;"); break;
        case '"': strbuf_append(sb, "&quot;"); break;
        case '\'': strbuf_append(sb, "&apos;"); break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                strbuf_append(sb, "\xEF\xBF\xBD");
            else
                strbuf_append_char(sb, (char)c);
        }
    }
}

static void indent(strbuf *sb, int depth)
{
    for (int i = 0; i < depth; i++)
        strbuf_append(sb, "  ");
}

/* Element names for array items. */
static const char *item_name(const char *array)
{
    if (!strcmp(array, "SchemaNames"))
        return "SchemaName";
    if (!strcmp(array, "DatabaseObjects"))
        return "DatabaseObject";
    if (!strcmp(array, "Issues"))
        return "Issue";
    return "Item";
}

static void emit(strbuf *sb, const char *name, const cJSON *v, int depth)
{
    indent(sb, depth);
    if (cJSON_IsNull(v)) {
        strbuf_appendf(sb, "<%s/>\n", name);
        return;
    }
    strbuf_appendf(sb, "<%s>", name);
    if (!strcmp(name, "MinimumVersionsFixedIn")) {
        /* Its keys are release series ("2.25"), not element names. */
        char *t = an_min_fixed_text(v);
        esc(sb, t);
        free(t);
    } else if (cJSON_IsString(v)) {
        esc(sb, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        strbuf_appendf(sb, "%d", v->valueint);
    } else if (cJSON_IsBool(v)) {
        strbuf_append(sb, cJSON_IsTrue(v) ? "true" : "false");
    } else {
        strbuf_append_char(sb, '\n');
        const cJSON *it;
        cJSON_ArrayForEach(it, v) emit(sb, cJSON_IsArray(v) ? item_name(name) : it->string, it, depth + 1);
        indent(sb, depth);
    }
    strbuf_appendf(sb, "</%s>\n", name);
}

char *an_render_xml(const cJSON *r)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    emit(&sb, "SchemaAnalysisReport", r, 0);
    return strbuf_detach(&sb);
}
