/* pgoutput decoder on hand-built messages, and the event lines made from them. */
#include "cdc/cdc_stream.h"
#include "cdc/event_json.h"
#include "db/replication/pgoutput.h"
#include "db/replication/replstream.h"
#include "source/pg_int.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

typedef struct mb {
    char b[1024];
    size_t n;
} mb;

static void p8(mb *m, unsigned v) { m->b[m->n++] = (char)v; }
static void p16(mb *m, unsigned v) { p8(m, v >> 8 & 255), p8(m, v & 255); }
static void p32(mb *m, uint32_t v) { p16(m, v >> 16), p16(m, v & 0xffff); }
static void p64(mb *m, uint64_t v) { p32(m, (uint32_t)(v >> 32)), p32(m, (uint32_t)v); }
static void pstr(mb *m, const char *s)
{
    size_t l = strlen(s) + 1;
    memcpy(m->b + m->n, s, l);
    m->n += l;
}
static void pval(mb *m, const char *s, size_t len)
{
    p8(m, 't');
    p32(m, (uint32_t)len);
    memcpy(m->b + m->n, s, len);
    m->n += len;
}

/* Relation 16384 "s"."t" (id int key, name text, doc text), replica identity full. */
static void relation_msg(mb *m)
{
    p8(m, 'R');
    p32(m, 16384);
    pstr(m, "s");
    pstr(m, "t");
    p8(m, 'f');
    p16(m, 3);
    p8(m, 1), pstr(m, "id"), p32(m, 23), p32(m, (uint32_t)-1);
    p8(m, 0), pstr(m, "name"), p32(m, 25), p32(m, (uint32_t)-1);
    p8(m, 0), pstr(m, "doc"), p32(m, 25), p32(m, (uint32_t)-1);
}

TEST(pgoutput_begin_commit_origin_type)
{
    mb m = {.n = 0};
    const char *err = NULL;
    pgo_msg d;
    p8(&m, 'B'), p64(&m, 0x1234ABCDULL), p64(&m, 77), p32(&m, 991);
    CHECK(pgo_decode(m.b, m.n, &d, &err));
    CHECK_INT_EQ(d.kind, PGO_BEGIN);
    CHECK(d.lsn == 0x1234ABCDULL);
    CHECK_INT_EQ(d.xid, 991);
    pgo_msg_clear(&d);
    m.n = 0;
    p8(&m, 'C'), p8(&m, 0), p64(&m, 0x100), p64(&m, 0x180), p64(&m, 5);
    CHECK(pgo_decode(m.b, m.n, &d, &err));
    CHECK_INT_EQ(d.kind, PGO_COMMIT);
    CHECK(d.lsn == 0x100 && d.end_lsn == 0x180);
    pgo_msg_clear(&d);
    m.n = 0;
    p8(&m, 'O'), p64(&m, 9), pstr(&m, "node1");
    CHECK(pgo_decode(m.b, m.n, &d, &err));
    CHECK_STR_EQ(d.name, "node1");
    pgo_msg_clear(&d);
    m.n = 0;
    p8(&m, 'Y'), p32(&m, 5000), pstr(&m, "public"), pstr(&m, "mood");
    CHECK(pgo_decode(m.b, m.n, &d, &err));
    CHECK_STR_EQ(d.name, "mood");
    pgo_msg_clear(&d);
}

TEST(pgoutput_relation_and_truncate)
{
    mb m = {.n = 0};
    const char *err = NULL;
    pgo_msg d;
    relation_msg(&m);
    CHECK(pgo_decode(m.b, m.n, &d, &err));
    CHECK_INT_EQ(d.relation.relid, 16384);
    CHECK_STR_EQ(d.relation.nspname, "s");
    CHECK_STR_EQ(d.relation.relname, "t");
    CHECK_INT_EQ(d.relation.replident, 'f');
    CHECK_INT_EQ(d.relation.natts, 3);
    CHECK(d.relation.columns[0].is_key && !d.relation.columns[1].is_key);
    CHECK_STR_EQ(d.relation.columns[2].name, "doc");
    CHECK_INT_EQ(d.relation.columns[1].type_oid, 25);
    pgo_msg_clear(&d);
    m.n = 0;
    p8(&m, 'T'), p32(&m, 2), p8(&m, 1), p32(&m, 10), p32(&m, 11);
    CHECK(pgo_decode(m.b, m.n, &d, &err));
    CHECK_INT_EQ(d.ntruncate, 2);
    CHECK_INT_EQ(d.truncate_relids[1], 11);
    CHECK_INT_EQ(d.truncate_flags, 1);
    pgo_msg_clear(&d);
}

TEST(pgoutput_malformed_input_is_refused)
{
    mb m = {.n = 0};
    const char *err = NULL;
    pgo_msg d;
    relation_msg(&m);
    for (size_t cut = 0; cut < m.n; cut++) {
        err = NULL;
        CHECK(!pgo_decode(m.b, cut, &d, &err));
        CHECK(err != NULL);
    }
    m.n = 0;
    p8(&m, 'I'), p32(&m, 1), p8(&m, 'N'), p16(&m, 1), p8(&m, 't'), p32(&m, 1000), p8(&m, 'x');
    CHECK(!pgo_decode(m.b, m.n, &d, &err));
    m.n = 0;
    p8(&m, 'I'), p32(&m, 1), p8(&m, 'N'), p16(&m, 1), p8(&m, 'z');
    CHECK(!pgo_decode(m.b, m.n, &d, &err));
    m.n = 0;
    p8(&m, 'Q');
    CHECK(!pgo_decode(m.b, m.n, &d, &err));
    CHECK_STR_EQ(err, "unknown pgoutput message type");
}

/*
 * Decode relation + change, make the neutral record (pg_change_of) and
 * encode it as the exporter does (cdc_event_append_change), parse it back
 * with cJSON. old_needed: src_change.old_needed (NULL: not known).
 */
static cJSON *event_needing(const mb *change, const bool *old_needed)
{
    mb r = {.n = 0};
    relation_msg(&r);
    pgo_msg rel, d;
    const char *err;
    if (!pgo_decode(r.b, r.n, &rel, &err))
        return NULL;
    if (!pgo_decode(change->b, change->n, &d, &err)) {
        pgo_msg_clear(&rel);
        return NULL;
    }
    size_t key[] = {0};
    const char *names[3];
    for (int i = 0; i < 3; i++)
        names[i] = rel.relation.columns[i].name;
    src_value after[3], before[3];
    src_change ch;
    strbuf sb = STRBUF_INIT;
    if (pg_change_of(&rel.relation, names, key, 1, old_needed, &d, after, before, &ch))
        cdc_event_append_change(&sb, 42, &ch, "source_db_exporter");
    cJSON *j = NULL;
    if (sb.len && sb.data[sb.len - 1] == '\n' && !memchr(sb.data, '\n', sb.len - 1))
        j = cJSON_Parse(sb.data);
    strbuf_free(&sb);
    pgo_msg_clear(&rel);
    pgo_msg_clear(&d);
    return j;
}

static cJSON *event_of(const mb *change, char op)
{
    (void)op; /* the message says which */
    return event_needing(change, NULL);
}

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

TEST(pgoutput_insert_event_nulls_and_binary_safe_text)
{
    mb m = {.n = 0};
    p8(&m, 'I'), p32(&m, 16384), p8(&m, 'N'), p16(&m, 3);
    pval(&m, "7", 1);
    const char odd[] = "a\"b\\c\n\t\x01\x7f é \xe2\x82\xac";
    pval(&m, odd, sizeof odd - 1);
    p8(&m, 'n');
    cJSON *j = event_of(&m, 'c');
    CHECK(j != NULL);
    CHECK_INT_EQ(cJSON_GetObjectItem(j, "vsn")->valuedouble, 42);
    CHECK_STR_EQ(jstr(j, "op", NULL), "c");
    CHECK_STR_EQ(jstr(j, "schema_name", NULL), "s");
    CHECK_STR_EQ(jstr(j, "table_name", NULL), "t");
    CHECK_STR_EQ(jstr(j, "key", "id"), "7");
    CHECK_STR_EQ(jstr(j, "fields", "name"), odd);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "fields"), "doc")));
    CHECK(cJSON_GetObjectItem(j, "before_fields") == NULL);
    CHECK_STR_EQ(jstr(j, "exporter_role", NULL), "source_db_exporter");
    cJSON_Delete(j);
}

TEST(pgoutput_update_full_identity_diff_pk_change_and_unchanged_toast)
{
    mb m = {.n = 0};
    p8(&m, 'U'), p32(&m, 16384), p8(&m, 'O'), p16(&m, 3);
    pval(&m, "7", 1), pval(&m, "old", 3), pval(&m, "bigdoc", 6);
    p8(&m, 'N'), p16(&m, 3);
    pval(&m, "8", 1), pval(&m, "old", 3), p8(&m, 'u');
    cJSON *j = event_of(&m, 'u');
    CHECK(j != NULL);
    CHECK_STR_EQ(jstr(j, "key", "id"), "7");        /* the old key */
    CHECK_STR_EQ(jstr(j, "fields", "id"), "8");     /* changed */
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "fields"), "name") == NULL); /* unchanged */
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "fields"), "doc") == NULL);  /* TOAST 'u' */
    CHECK_STR_EQ(jstr(j, "before_fields", "doc"), "bigdoc");
    CHECK_STR_EQ(jstr(j, "before_fields", "name"), "old");
    cJSON_Delete(j);

    /* Value to NULL and NULL to value are changes. */
    m.n = 0;
    p8(&m, 'U'), p32(&m, 16384), p8(&m, 'O'), p16(&m, 3);
    pval(&m, "7", 1), p8(&m, 'n'), pval(&m, "x", 1);
    p8(&m, 'N'), p16(&m, 3);
    pval(&m, "7", 1), pval(&m, "", 0), p8(&m, 'n');
    j = event_of(&m, 'u');
    CHECK(j != NULL);
    CHECK_STR_EQ(jstr(j, "fields", "name"), "");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "fields"), "doc")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "before_fields"), "name")));
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "fields"), "id") == NULL);
    cJSON_Delete(j);
}

TEST(pgoutput_update_without_old_tuple_and_with_key_tuple)
{
    mb m = {.n = 0};
    p8(&m, 'U'), p32(&m, 16384), p8(&m, 'N'), p16(&m, 3);
    pval(&m, "7", 1), pval(&m, "n", 1), p8(&m, 'u');
    cJSON *j = event_of(&m, 'u');
    CHECK(j != NULL);
    CHECK_STR_EQ(jstr(j, "key", "id"), "7");
    CHECK_STR_EQ(jstr(j, "fields", "id"), "7"); /* without the old row every sent column counts */
    CHECK(cJSON_GetObjectItem(j, "before_fields") == NULL);
    cJSON_Delete(j);
    m.n = 0;
    p8(&m, 'U'), p32(&m, 16384), p8(&m, 'K'), p16(&m, 3);
    pval(&m, "5", 1), p8(&m, 'n'), p8(&m, 'n');
    p8(&m, 'N'), p16(&m, 3);
    pval(&m, "6", 1), pval(&m, "n", 1), pval(&m, "d", 1);
    j = event_of(&m, 'u');
    CHECK(j != NULL);
    CHECK_STR_EQ(jstr(j, "key", "id"), "5");
    CHECK_STR_EQ(jstr(j, "fields", "id"), "6");
    CHECK(cJSON_GetObjectItem(j, "before_fields") == NULL);
    cJSON_Delete(j);
}

TEST(pgoutput_delete_event)
{
    mb m = {.n = 0};
    p8(&m, 'D'), p32(&m, 16384), p8(&m, 'O'), p16(&m, 3);
    pval(&m, "9", 1), pval(&m, "gone", 4), p8(&m, 'n');
    cJSON *j = event_of(&m, 'd');
    CHECK(j != NULL);
    CHECK_STR_EQ(jstr(j, "op", NULL), "d");
    CHECK_STR_EQ(jstr(j, "key", "id"), "9");
    CHECK_STR_EQ(jstr(j, "before_fields", "name"), "gone");
    CHECK(cJSON_GetObjectItem(j, "fields") == NULL);
    cJSON_Delete(j);
}

TEST(event_json_escaping_and_marker)
{
    strbuf sb = STRBUF_INIT;
    json_append_string(&sb, "q\"b\\s\x1f\x00z", 8);
    CHECK_STR_EQ(sb.data, "\"q\\\"b\\\\s\\u001f\\u0000z\"");
    strbuf_reset(&sb);
    event_json_append_marker(&sb, 17, "cutover.target", "source_db_exporter");
    CHECK_STR_EQ(sb.data, "{\"vsn\":17,\"op\":\"cutover.target\",\"exporter_role\":\"source_db_exporter\"}\n");
    strbuf_free(&sb);
}

TEST(lsn_text_form)
{
    char b[24];
    uint64_t v;
    CHECK_STR_EQ(lsn_format(0x16B3748ULL | (1ULL << 32), b), "1/16B3748");
    CHECK(lsn_parse("1/16B3748", &v) && v == (0x16B3748ULL | (1ULL << 32)));
    CHECK(!lsn_parse("1/16B3748x", &v));
    CHECK(!lsn_parse("zz", &v));
}

#include "cdc/cdc_tables.h"

TEST(cdc_qualified_table_names)
{
    char *s, *t;
    CHECK(cdc_parse_qualified("\"public\".\"Mixed Case\"", &s, &t));
    CHECK_STR_EQ(s, "public");
    CHECK_STR_EQ(t, "Mixed Case");
    free(s), free(t);
    CHECK(cdc_parse_qualified("\"a\"\"b\".\"x.y\"", &s, &t));
    CHECK_STR_EQ(s, "a\"b");
    CHECK_STR_EQ(t, "x.y");
    free(s), free(t);
    CHECK(cdc_parse_qualified("Sales.orders", &s, &t));
    CHECK_STR_EQ(s, "sales");
    CHECK_STR_EQ(t, "orders");
    free(s), free(t);
    CHECK(cdc_parse_qualified("orders", &s, &t));
    CHECK_STR_EQ(s, "public");
    free(s), free(t);
    CHECK(!cdc_parse_qualified("\"open", &s, &t));
    free(s), free(t);
    CHECK(!cdc_parse_qualified("\"a\"x", &s, &t));
    free(s), free(t);
    strlist l = STRLIST_INIT;
    strlist_push(&l, "a\"b");
    strlist_push(&l, "c\\d");
    char *arr = pg_text_array_literal(&l);
    CHECK_STR_EQ(arr, "{\"a\\\"b\",\"c\\\\d\"}");
    free(arr);
    strlist_free(&l);
}

/*
 * With the columns the apply side needs known (the PostgreSQL feed knows
 * them: its unique indexes), an update or delete carries only those old
 * values beyond the key, never the rest of the old row; an update only when
 * it changes one of them or the key.
 */
TEST(source_change_before_fields_only_what_apply_needs)
{
    const bool name_unique[] = {true, true, false}, none[] = {false, false, false};
    mb m = {.n = 0};
    p8(&m, 'U'), p32(&m, 16384), p8(&m, 'O'), p16(&m, 3);
    pval(&m, "7", 1), pval(&m, "old", 3), pval(&m, "bigdoc", 6);
    p8(&m, 'N'), p16(&m, 3), pval(&m, "7", 1), pval(&m, "old", 3), pval(&m, "newdoc", 6);
    cJSON *j = event_needing(&m, name_unique);
    CHECK(j != NULL);
    CHECK_STR_EQ(jstr(j, "key", "id"), "7");
    CHECK_STR_EQ(jstr(j, "fields", "doc"), "newdoc");
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "fields"), "name") == NULL);
    /* the unique column did not change: its old value is not needed */
    CHECK(cJSON_GetObjectItem(j, "before_fields") == NULL);
    cJSON_Delete(j);
    m.n = 0;
    p8(&m, 'U'), p32(&m, 16384), p8(&m, 'O'), p16(&m, 3);
    pval(&m, "7", 1), pval(&m, "old", 3), pval(&m, "bigdoc", 6);
    p8(&m, 'N'), p16(&m, 3), pval(&m, "7", 1), pval(&m, "new", 3), pval(&m, "newdoc", 6);
    j = event_needing(&m, name_unique);
    CHECK(j != NULL);
    CHECK_STR_EQ(jstr(j, "fields", "name"), "new");
    CHECK_STR_EQ(jstr(j, "before_fields", "name"), "old");
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "before_fields"), "doc") == NULL);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "before_fields"), "id") == NULL); /* in key */
    cJSON_Delete(j);
    j = event_needing(&m, none);
    CHECK(j != NULL);
    CHECK(cJSON_GetObjectItem(j, "before_fields") == NULL);
    CHECK_STR_EQ(jstr(j, "key", "id"), "7");
    cJSON_Delete(j);
    /* A NULL old value of a unique column is carried as null. */
    m.n = 0;
    p8(&m, 'D'), p32(&m, 16384), p8(&m, 'O'), p16(&m, 3);
    pval(&m, "9", 1), p8(&m, 'n'), pval(&m, "bigdoc", 6);
    j = event_needing(&m, name_unique);
    CHECK(j != NULL);
    CHECK_STR_EQ(jstr(j, "key", "id"), "9");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "before_fields"), "name")));
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "before_fields"), "doc") == NULL);
    cJSON_Delete(j);
    /* Without the whole old row there is no before_fields, needed or not. */
    m.n = 0;
    p8(&m, 'D'), p32(&m, 16384), p8(&m, 'K'), p16(&m, 3);
    pval(&m, "9", 1), p8(&m, 'n'), p8(&m, 'n');
    j = event_needing(&m, name_unique);
    CHECK(j != NULL);
    CHECK(cJSON_GetObjectItem(j, "before_fields") == NULL);
    cJSON_Delete(j);
}

TEST(source_change_refuses_tuples_not_of_the_relation)
{
    mb m = {.n = 0};
    p8(&m, 'I'), p32(&m, 16384), p8(&m, 'N'), p16(&m, 2), pval(&m, "7", 1), p8(&m, 'n');
    CHECK(event_of(&m, 'c') == NULL);
    m.n = 0;
    p8(&m, 'D'), p32(&m, 16384), p8(&m, 'O'), p16(&m, 4);
    pval(&m, "7", 1), p8(&m, 'n'), p8(&m, 'n'), p8(&m, 'n');
    CHECK(event_of(&m, 'd') == NULL);
}

/* The JSON string writer against a byte-at-a-time reference, escapes at every offset of a word. */
static void json_reference(strbuf *sb, const unsigned char *s, size_t len)
{
    strbuf_append_char(sb, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\')
            strbuf_appendf(sb, "\\%c", c);
        else if (c == '\n')
            strbuf_append(sb, "\\n");
        else if (c == '\r')
            strbuf_append(sb, "\\r");
        else if (c == '\t')
            strbuf_append(sb, "\\t");
        else if (c < 0x20 || c == 0x7f)
            strbuf_appendf(sb, "\\u%04x", c);
        else
            strbuf_append_char(sb, (char)c);
    }
    strbuf_append_char(sb, '"');
}

TEST(json_append_string_matches_a_bytewise_reference)
{
    static const unsigned char pick[] = {'a', '0', ' ', '~', 0x80, 0xe2, 0xff, 0x7e, 0x21, 0x1f,
                                         0x20, '"', '\\', 0x7f, 0, '\n', '\t', 0x01, 0x5b, 0x5d};
    unsigned seed = 12345;
    unsigned char in[80];
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    int bad = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % 70);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            /* mostly plain bytes, so runs of 8 form; sometimes any byte at all */
            unsigned r = seed >> 16;
            in[i] = r % 4 ? (unsigned char)pick[r % 11] : r % 7 == 0 ? (unsigned char)(r >> 3) : pick[r % sizeof pick];
        }
        strbuf_reset(&a), strbuf_reset(&b);
        strbuf_append(&a, "x"); /* after other text, as in a line */
        strbuf_append(&b, "x");
        json_append_string(&a, (const char *)in, len);
        json_reference(&b, in, len);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0 || a.data[a.len] != '\0')
            bad++;
    }
    CHECK_INT_EQ(bad, 0);
    strbuf_free(&a), strbuf_free(&b);
}

/*
 * A table (id, a, b, c, u, n): primary key id; unique columns a, b, c, u (e.g. unique (a, b),
 * (u), (c, id)).
 * old and new rows as text ("" kept as NULL-free text), REPLICA IDENTITY FULL.
 */
typedef struct uq_case {
    src_value before[6], after[6];
    src_change ch;
} uq_case;

static const char *const uq_names[] = {"id", "a", "b", "c", "u", "n"};
static const size_t uq_pk[] = {0};
static const bool uq_needed[] = {true, true, true, true, true, false};

static void uq_make(uq_case *k, char op, const char *const *old, const char *const *new_)
{
    for (int i = 0; i < 6; i++) {
        k->before[i] = (src_value){SRC_TEXT, old[i], strlen(old[i])};
        if (new_)
            k->after[i] = new_[i] ? (src_value){SRC_TEXT, new_[i], strlen(new_[i])}
                                  : (src_value){SRC_UNCHANGED, NULL, 0};
    }
    k->ch = (src_change){.op = (src_change_op)op, .schema = "s", .table = "t", .ncols = 6,
                         .columns = uq_names, .after = new_ ? k->after : NULL, .before = k->before,
                         .before_full = true, .key = uq_pk, .nkey = 1, .old_needed = uq_needed,
                         .shape_id = 7};
}

/* The before_fields of k's line, as "col=value,...", the same from the caching encoder. */
static char *uq_before(const uq_case *k, cdc_encoder *enc)
{
    strbuf plain = STRBUF_INIT, cached = STRBUF_INIT;
    cdc_event_append_change(&plain, 9, &k->ch, "source_db_exporter");
    cdc_encoder_append(enc, &cached, 9, &k->ch);
    bool same = plain.len == cached.len && memcmp(plain.data, cached.data, plain.len) == 0;
    cJSON *j = cJSON_Parse(plain.data);
    strbuf out = STRBUF_INIT;
    if (!same || !j) {
        strbuf_append(&out, "differ or unparsable");
    } else {
        const cJSON *bf = cJSON_GetObjectItem(j, "before_fields"), *c;
        cJSON_ArrayForEach(c, bf) strbuf_appendf(&out, "%s%s=%s", out.len ? "," : "", c->string,
                                                 c->valuestring);
    }
    cJSON_Delete(j);
    strbuf_free(&plain), strbuf_free(&cached);
    return strbuf_detach(&out);
}

TEST(encoder_update_carries_unique_old_values_only_when_it_changes_a_key_or_unique_column)
{
    cdc_encoder *enc = cdc_encoder_new("source_db_exporter");
    const char *old[] = {"1", "a1", "b1", "c1", "u1", "n1"};
    uq_case k;
    char *s;
#define BEFORE(op, ...)                                                                            \
    do {                                                                                           \
        const char *nw[] = {__VA_ARGS__};                                                          \
        uq_make(&k, op, old, nw);                                                                  \
        s = uq_before(&k, enc);                                                                    \
    } while (0)
    BEFORE('u', "1", "a1", "b1", "c1", "u1", "n2"); /* no key or unique column changes */
    CHECK_STR_EQ(s, "");
    free(s);
    BEFORE('u', "1", NULL, NULL, NULL, NULL, "n2"); /* TOAST values not sent: unchanged */
    CHECK_STR_EQ(s, "");
    free(s);
    /* one changes: all of them, whatever index of the written table holds it with others */
    BEFORE('u', "1", "a2", "b1", "c1", "u1", "n1");
    CHECK_STR_EQ(s, "a=a1,b=b1,c=c1,u=u1");
    free(s);
    BEFORE('u', "1", "a1", "b1", "c1", "u2", "n2");
    CHECK_STR_EQ(s, "a=a1,b=b1,c=c1,u=u1");
    free(s);
    BEFORE('u', "2", "a1", "b1", "c1", "u1", "n1"); /* the key changes: (c, id) needs c */
    CHECK_STR_EQ(s, "a=a1,b=b1,c=c1,u=u1");
    free(s);
    /* A delete releases every value: all of them. */
    uq_make(&k, 'd', old, NULL);
    s = uq_before(&k, enc);
    CHECK_STR_EQ(s, "a=a1,b=b1,c=c1,u=u1");
    free(s);
    /* A feed that does not say which are needed: the whole old row, changed or not. */
    BEFORE('u', "1", "a1", "b1", "c1", "u1", "n2");
    free(s);
    k.ch.old_needed = NULL;
    s = uq_before(&k, enc);
    CHECK_STR_EQ(s, "id=1,a=a1,b=b1,c=c1,u=u1,n=n1");
    free(s);
#undef BEFORE
    cdc_encoder_free(enc);
}

/* The encoder's kept shapes: a new shape id, a changed column count, more ids than it keeps. */
TEST(encoder_shapes_give_the_same_lines_as_without)
{
    cdc_encoder *enc = cdc_encoder_new("target_db_exporter_fb");
    const char *old[] = {"1", "a\"1", "b1", "c1", "u1", "n1"}, *nw[] = {"1", "a\"1", "b1", "c1", "u1", "x"};
    static const char *const other[] = {"ID", "A b", "é", "c", "u", "n"};
    uq_case k;
    uq_make(&k, 'u', old, nw);
    int bad = 0;
    strbuf p = STRBUF_INIT, c = STRBUF_INIT;
    /* 4500 ids (more than it keeps), each seen twice; an id always names the same columns */
    for (int i = 0; i < 9000; i++) {
        uint64_t id = (uint64_t)(i % 4500) + 1;
        k.ch.shape_id = id;
        k.ch.columns = id % 3 ? uq_names : other;
        k.ch.table = id % 3 ? "t" : "T2";
        strbuf_reset(&p), strbuf_reset(&c);
        cdc_event_append_change(&p, i, &k.ch, "target_db_exporter_fb");
        cdc_encoder_append(enc, &c, i, &k.ch);
        if (p.len != c.len || memcmp(p.data, c.data, p.len) != 0)
            bad++;
    }
    CHECK_INT_EQ(bad, 0);
    /* an id seen with another column count is made again (a safeguard: feeds do not do that) */
    k.ch.shape_id = 1, k.ch.columns = uq_names, k.ch.table = "t", k.ch.ncols = 5;
    k.ch.old_needed = uq_needed;
    strbuf_reset(&p), strbuf_reset(&c);
    cdc_event_append_change(&p, 1, &k.ch, "target_db_exporter_fb");
    cdc_encoder_append(enc, &c, 1, &k.ch);
    CHECK_STR_EQ(c.data, p.data);
    strbuf_free(&p), strbuf_free(&c);
    cdc_encoder_free(enc);
}
