/* Event lines are written by hand (not through cJSON) because this is the exporter's hot path. */
#include "cdc/event_json.h"

#include "cdc/queue_format.h"

#include <string.h>

void json_append_string(strbuf *sb, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_reserve(sb, len + 2);
    strbuf_append_char(sb, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        strbuf_append_len(sb, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            strbuf_append(sb, "\\\"");
            break;
        case '\\':
            strbuf_append(sb, "\\\\");
            break;
        case '\n':
            strbuf_append(sb, "\\n");
            break;
        case '\r':
            strbuf_append(sb, "\\r");
            break;
        case '\t':
            strbuf_append(sb, "\\t");
            break;
        default: {
            char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            strbuf_append(sb, u);
        }
        }
    }
    strbuf_append_len(sb, s + run, len - run);
    strbuf_append_char(sb, '"');
}

static void append_value(strbuf *sb, const pgo_value *v)
{
    if (v->kind == 'n')
        strbuf_append(sb, "null");
    else
        json_append_string(sb, v->data ? v->data : "", v->len);
}

static void append_name(strbuf *sb, const char *name)
{
    json_append_string(sb, name, strlen(name));
    strbuf_append_char(sb, ':');
}

/* {col:value} over the given columns (all when cols == NULL), skipping unchanged TOAST. */
static void append_object(strbuf *sb, const pgo_relation *rel, const pgo_tuple *t, const int *cols,
                          size_t ncols)
{
    strbuf_append_char(sb, '{');
    bool first = true;
    size_t n = cols ? ncols : t->natts;
    for (size_t i = 0; i < n; i++) {
        int c = cols ? cols[i] : (int)i;
        const pgo_value *v = &t->values[c];
        if (v->kind == 'u')
            continue;
        if (!first)
            strbuf_append_char(sb, ',');
        first = false;
        append_name(sb, rel->columns[c].name);
        append_value(sb, v);
    }
    strbuf_append_char(sb, '}');
}

static bool same_value(const pgo_value *a, const pgo_value *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == 'n')
        return true;
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void append_header(strbuf *sb, long long vsn, const char *op)
{
    strbuf_appendf(sb, "{\"vsn\":%lld,\"op\":\"%s\"", vsn, op);
}

bool event_json_append_change(strbuf *sb, const cdc_row_change *ch)
{
    const pgo_relation *rel = ch->rel;
    const pgo_tuple *nt = ch->new_tuple, *ot = ch->old_tuple;
    if ((nt && nt->natts != rel->natts) || (ot && ot->natts != rel->natts))
        return false;
    if ((ch->op != 'd' && !nt) || (ch->op == 'd' && !ot))
        return false;
    char op[2] = {ch->op, 0};
    append_header(sb, ch->vsn, op);
    strbuf_append(sb, ",\"schema_name\":");
    json_append_string(sb, rel->nspname, strlen(rel->nspname));
    strbuf_append(sb, ",\"table_name\":");
    json_append_string(sb, rel->relname, strlen(rel->relname));

    /* The row's identity before the change: old tuple when sent, else the new one. */
    const pgo_tuple *keysrc = ot ? ot : nt;
    strbuf_append(sb, ",\"key\":");
    append_object(sb, rel, keysrc, ch->key_cols, ch->nkey);

    if (ch->op == 'c') {
        strbuf_append(sb, ",\"fields\":");
        append_object(sb, rel, nt, NULL, 0);
    } else if (ch->op == 'u') {
        strbuf_append(sb, ",\"fields\":{");
        bool first = true;
        bool diff = ot && ch->old_kind == 'O';
        for (uint16_t i = 0; i < nt->natts; i++) {
            const pgo_value *v = &nt->values[i];
            if (v->kind == 'u' || (diff && same_value(v, &ot->values[i])))
                continue;
            if (!first)
                strbuf_append_char(sb, ',');
            first = false;
            append_name(sb, rel->columns[i].name);
            append_value(sb, v);
        }
        strbuf_append_char(sb, '}');
    }
    if (ot && ch->old_kind == 'O' && ch->op != 'c') {
        strbuf_append(sb, ",\"before_fields\":");
        append_object(sb, rel, ot, NULL, 0);
    }
    strbuf_append(sb, ",\"exporter_role\":");
    json_append_string(sb, ch->exporter_role, strlen(ch->exporter_role));
    strbuf_append(sb, "}\n");
    return true;
}

void event_json_append_truncate(strbuf *sb, long long vsn, const char *schema, const char *table,
                                const char *exporter_role)
{
    append_header(sb, vsn, QUEUE_OP_TRUNCATE);
    strbuf_append(sb, ",\"schema_name\":");
    json_append_string(sb, schema, strlen(schema));
    strbuf_append(sb, ",\"table_name\":");
    json_append_string(sb, table, strlen(table));
    strbuf_append(sb, ",\"exporter_role\":");
    json_append_string(sb, exporter_role, strlen(exporter_role));
    strbuf_append(sb, "}\n");
}

void event_json_append_marker(strbuf *sb, long long vsn, const char *op, const char *exporter_role)
{
    append_header(sb, vsn, op);
    strbuf_append(sb, ",\"exporter_role\":");
    json_append_string(sb, exporter_role, strlen(exporter_role));
    strbuf_append(sb, "}\n");
}
