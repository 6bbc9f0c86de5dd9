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

static void append_header(strbuf *sb, long long vsn, const char *op)
{
    strbuf_appendf(sb, "{\"vsn\":%lld,\"op\":\"%s\"", vsn, op);
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
