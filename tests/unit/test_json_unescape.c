/* In-place decoding of long JSON string values (cdc/json_unescape.h, cdc_event_parse_in_place). */
#include "testlib.h"

#include "cdc/event.h"
#include "cdc/json_unescape.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

/* The body decoded by json_unescape_in_place and by cJSON agree: same string, or both refuse. */
static bool same_as_cjson(const char *body)
{
    size_t len = strlen(body);
    char *lit = xasprintf("\"%s\"", body);
    cJSON *j = cJSON_Parse(lit);
    char *mine = xmalloc(len + 1);
    memcpy(mine, body, len + 1);
    size_t n = json_unescape_in_place(mine, len);
    bool same;
    if (!j || !cJSON_IsString(j))
        same = n == (size_t)-1;
    else
        same = n != (size_t)-1 && strcmp(mine, j->valuestring) == 0 && mine[n] == '\0';
    if (!same)
        printf("#   differs from cJSON on \"%s\"\n", body);
    cJSON_Delete(j);
    free(mine);
    free(lit);
    return same;
}

TEST(json_unescape_matches_cjson_on_tricky_strings)
{
    static const char *const bodies[] = {
        "", "plain", "a\\\"b", "\\\\", "\\\\\\\"", "\\/", "\\b\\f\\n\\r\\t", "\\u0041",
        "\\u00e9\\u00E9", "\\u20AC", "\\u07FF\\u0800\\uFFFF", "\\uD83D\\uDE00", "x\\uD800\\uDC00y",
        "\\uDBFF\\uDFFF", "\\uZZZZ", "a\\u12G4b", "x\\u0000y", "\\uDE00", "\\uD83D",
        "\\uD83Dx", "\\uD83D\\u0041", "\\uD83D\\uD83D", "\\uD83D\\n", "\\q", "\\u12", "\\u",
        "\xc3\xa9 raw UTF-8", "\\\\u0041", "tab\there", "\\'"};
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++)
        CHECK(same_as_cjson(bodies[i]));
    /* random mixes of escape pieces, every well-formed literal */
    static const char *const parts[] = {"a", "\\\\", "\\\"", "\\u", "D8", "3D", "DE", "00", "\\n",
                                        "\\t", "0", "F", "\\/", "\xe2\x82\xac", "\\x", "41"};
    srand(15);
    char body[128];
    int compared = 0;
    for (int round = 0; round < 20000; round++) {
        size_t l = 0;
        int k = 1 + rand() % 10;
        for (int i = 0; i < k; i++) {
            const char *p = parts[rand() % (int)(sizeof parts / sizeof *parts)];
            memcpy(body + l, p, strlen(p));
            l += strlen(p);
        }
        body[l] = '\0';
        if (json_literal_end(body, l) != (size_t)-1)
            continue; /* a quote ends it early: not a literal's body */
        if (!same_as_cjson(body))
            break;
        compared++;
    }
    CHECK(compared > 10000);
}

TEST(json_literal_end_skips_escaped_quotes)
{
    CHECK_INT_EQ(json_literal_end("abc\"x", 5), 3);
    CHECK_INT_EQ(json_literal_end("a\\\"b\"", 5), 4);
    CHECK_INT_EQ(json_literal_end("a\\\\\"", 4), 3);
    CHECK_INT_EQ(json_literal_end("a\\\\\\\"b\"", 7), 6);
    CHECK(json_literal_end("a\\\"", 3) == (size_t)-1);
    CHECK(json_literal_end("abc", 3) == (size_t)-1);
}

/* A line whose t is n copies of unit and whose before_fields holds it too. */
static char *long_line(const char *unit, size_t n, const char *extra)
{
    strbuf t = STRBUF_INIT;
    for (size_t i = 0; i < n; i++)
        strbuf_append(&t, unit);
    strbuf sb = STRBUF_INIT;
    strbuf_appendf(&sb,
                   "{\"vsn\":3,\"op\":\"u\",\"schema_name\":\"s\",\"table_name\":\"t\","
                   "\"key\":{\"id\":\"1\"},\"fields\":{\"t\" : \"%s\",\"n\":\"x\\ty\"%s},"
                   "\"before_fields\":{\"id\":\"1\",\"t\":\"%s\"},\"exporter_role\":\"r\"}",
                   t.data, extra, t.data);
    strbuf_free(&t);
    return strbuf_detach(&sb);
}

/* Parse line both ways: in place (the line's block adopted) and by cJSON; same values. */
static void check_both_ways(const char *line, size_t *held)
{
    size_t len = strlen(line);
    cdc_event ref, ev;
    char err[200];
    CHECK(cdc_event_parse(line, len, &ref, err, sizeof err));
    char *mine = xmalloc(len + 1);
    memcpy(mine, line, len + 1);
    cdc_arena *a = cdc_arena_for_line(len, 0);
    cdc_arena_adopt(a, mine, len + 1);
    CHECK(cdc_event_parse_in_place(a, mine, len, &ev, err, sizeof err));
    *held = cdc_arena_bytes(a);
    const cdc_cols *sets[2][2] = {{&ref.fields, &ev.fields}, {&ref.before, &ev.before}};
    for (int s = 0; s < 2; s++) {
        CHECK_INT_EQ(sets[s][0]->count, sets[s][1]->count);
        for (size_t i = 0; i < sets[s][0]->count && i < sets[s][1]->count; i++) {
            CHECK_STR_EQ(sets[s][0]->names[i], sets[s][1]->names[i]);
            const char *x = sets[s][0]->values[i], *y = sets[s][1]->values[i];
            CHECK((x == NULL) == (y == NULL));
            if (x && y)
                CHECK(strcmp(x, y) == 0);
        }
    }
    CHECK_STR_EQ(ref.schema_name, ev.schema_name);
    CHECK_STR_EQ(ref.table_name, ev.table_name);
    cdc_event_free(&ref);
    cdc_event_free(&ev);
    cdc_arena_free(a); /* frees mine */
}

TEST(event_long_values_parse_in_place_as_cjson_parses_them)
{
    size_t held;
    /* 100 KiB values with every kind of escape: decoded in their line */
    char *l = long_line("ab\\\"\\\\\\n\\u00e9\\uD83D\\uDE00\\/", 6000, "");
    check_both_ways(l, &held);
    CHECK(held >= strlen(l)); /* the adopted line counts in the event's memory */
    free(l);
    /* \u0000 ends the value, as in cJSON's copy */
    l = long_line("abcdefgh\\u0000", 10000, ",\"z\":null");
    check_both_ways(l, &held);
    free(l);
    /* a line holding a 0xFF byte: parsed by cJSON whole, still right */
    l = long_line("abcdefgh\xff", 10000, "");
    check_both_ways(l, &held);
    free(l);
    /* a long value outside the columns (a table name) is one too */
    strbuf tn = STRBUF_INIT;
    strbuf_append(&tn, "{\"vsn\":1,\"op\":\"c\",\"schema_name\":\"s\",\"table_name\": \"");
    for (int i = 0; i < 10000; i++)
        strbuf_append(&tn, "t\\u00e9ble\\\"");
    strbuf_append(&tn, "\",\"fields\":{\"id\":\"1\"},\"exporter_role\":\"r\"}");
    check_both_ways(tn.data, &held);
    strbuf_free(&tn);
    /* an invalid escape in a long value is refused */
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "{\"vsn\":1,\"op\":\"c\",\"schema_name\":\"s\",\"table_name\":\"t\","
                       "\"fields\":{\"t\":\"");
    for (int i = 0; i < 10000; i++)
        strbuf_append(&sb, "abcdefgh");
    strbuf_append(&sb, "\\q\"},\"exporter_role\":\"r\"}");
    cdc_arena *a = cdc_arena_for_line(sb.len, 0);
    cdc_event ev;
    char err[200];
    CHECK(!cdc_event_parse_in_place(a, sb.data, sb.len, &ev, err, sizeof err));
    CHECK(strstr(err, "escape") != NULL);
    cdc_event_free(&ev);
    cdc_arena_free(a);
    strbuf_free(&sb);
    cdc_event_parser_release();
}
