/* Event lines are written by hand (not through cJSON) because this is the exporter's hot path. */
#include "cdc/event_json.h"

#include "cdc/queue_format.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Bytes a JSON string cannot hold as they are: controls, '"', '\\' and DEL (kept ASCII-safe). */
static bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c == 0x7f; }

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Whether any of the 8 bytes of w may need an escape (never false when one does). */
static bool word_needs_escape(uint64_t w)
{
    uint64_t lt20 = (w - ONES * 0x20) & ~w;
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\'), d = w ^ (ONES * 0x7f);
    uint64_t eq = ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((d - ONES) & ~d);
    return ((lt20 | eq) & HIGHS) != 0;
}

/*
 * The values of wide rows are long runs that need no escape (hex of bytea,
 * text, numbers): they are found 8 bytes at a time and copied whole into
 * room reserved once; an escape reserves again for what is left.
 */
void json_append_string(strbuf *sb, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_reserve(sb, len + 2);
    char *o = sb->data + sb->len;
    *o++ = '"';
    size_t i = 0;
    for (;;) {
        size_t run = i;
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (word_needs_escape(w))
                break;
            i += 8;
        }
        while (i < len && !needs_escape((unsigned char)s[i]))
            i++;
        memcpy(o, s + run, i - run);
        o += i - run;
        if (i == len)
            break;
        /* Room for this escape (6 bytes at most), what is left and the closing quote. */
        sb->len = (size_t)(o - sb->data);
        strbuf_reserve(sb, 6 + (len - i) + 1);
        o = sb->data + sb->len;
        unsigned char c = (unsigned char)s[i++];
        *o++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *o++ = (char)c;
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            memcpy(o, "u00", 3);
            o[3] = hex[c >> 4];
            o[4] = hex[c & 15];
            o += 5;
        }
    }
    *o++ = '"';
    sb->len = (size_t)(o - sb->data);
    sb->data[sb->len] = '\0';
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
