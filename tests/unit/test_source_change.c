/*
 * The neutral change record (source/change.h) carries everything the queue's
 * event lines need: a pgoutput change decoded by the PostgreSQL source
 * (pg_change_of) and written by the change engine (cdc_event_append_change)
 * gives, byte for byte, the line event_json_append_change writes straight from
 * the pgoutput tuples (the exporter's path before the seam).
 */
#include "cdc/cdc_stream.h"
#include "cdc/event_json.h"
#include "db/replication/pgoutput.h"
#include "source/pg_int.h"
#include "testlib.h"

#include <stdlib.h>

typedef struct mbuf {
    char b[1024];
    size_t n;
} mbuf;

static void w8(mbuf *m, unsigned v) { m->b[m->n++] = (char)v; }
static void w16(mbuf *m, unsigned v) { w8(m, v >> 8 & 255), w8(m, v & 255); }
static void w32(mbuf *m, uint32_t v) { w16(m, v >> 16), w16(m, v & 0xffff); }
static void wstr(mbuf *m, const char *s)
{
    size_t l = strlen(s) + 1;
    memcpy(m->b + m->n, s, l);
    m->n += l;
}
static void wval(mbuf *m, const char *s, size_t len)
{
    w8(m, 't');
    w32(m, (uint32_t)len);
    memcpy(m->b + m->n, s, len);
    m->n += len;
}

/* Relation 16384 "s"."Odd \"name\"" (id int key, name text, doc text). */
static void relation(mbuf *m)
{
    w8(m, 'R'), w32(m, 16384), wstr(m, "s"), wstr(m, "Odd \"name\""), w8(m, 'f'), w16(m, 3);
    w8(m, 1), wstr(m, "id"), w32(m, 23), w32(m, (uint32_t)-1);
    w8(m, 0), wstr(m, "name"), w32(m, 25), w32(m, (uint32_t)-1);
    w8(m, 0), wstr(m, "doc"), w32(m, 25), w32(m, (uint32_t)-1);
}

/* Both paths' lines for one change message; false when either refused it. */
static bool both_lines(const mbuf *change, strbuf *before_seam, strbuf *after_seam)
{
    mbuf r = {.n = 0};
    relation(&r);
    pgo_msg rel, d;
    const char *err;
    if (!pgo_decode(r.b, r.n, &rel, &err))
        return false;
    if (!pgo_decode(change->b, change->n, &d, &err)) {
        pgo_msg_clear(&rel);
        return false;
    }
    char op = d.kind == PGO_INSERT ? 'c' : d.kind == PGO_UPDATE ? 'u' : 'd';
    int key_int[] = {0};
    size_t key[] = {0};
    cdc_row_change old = {.vsn = 42, .op = op, .rel = &rel.relation, .key_cols = key_int, .nkey = 1,
                          .old_kind = d.old_kind, .old_tuple = d.old_kind ? &d.old_tuple : NULL,
                          .new_tuple = op == 'd' ? NULL : &d.new_tuple,
                          .exporter_role = "source_db_exporter"};
    bool ok_old = event_json_append_change(before_seam, &old);
    const char *names[3];
    for (int i = 0; i < 3; i++)
        names[i] = rel.relation.columns[i].name;
    src_value after[3], before[3];
    src_change ch;
    bool ok_new = pg_change_of(&rel.relation, names, key, 1, &d, after, before, &ch);
    if (ok_new)
        cdc_event_append_change(after_seam, 42, &ch, "source_db_exporter");
    pgo_msg_clear(&rel);
    pgo_msg_clear(&d);
    return ok_old && ok_new;
}

static void same_line(const mbuf *change)
{
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    CHECK(both_lines(change, &a, &b));
    CHECK_STR_EQ(b.data, a.data);
    strbuf_free(&a);
    strbuf_free(&b);
}

TEST(source_change_insert_line_as_before_the_seam)
{
    mbuf m = {.n = 0};
    const char odd[] = "a\"b\\c\n\t\x01\x7f é \xe2\x82\xac";
    w8(&m, 'I'), w32(&m, 16384), w8(&m, 'N'), w16(&m, 3);
    wval(&m, "7", 1), wval(&m, odd, sizeof odd - 1), w8(&m, 'n');
    same_line(&m);
}

TEST(source_change_update_lines_as_before_the_seam)
{
    /* Whole old row: only changed columns, unchanged TOAST left out, before_fields. */
    mbuf m = {.n = 0};
    w8(&m, 'U'), w32(&m, 16384), w8(&m, 'O'), w16(&m, 3);
    wval(&m, "7", 1), wval(&m, "old", 3), wval(&m, "bigdoc", 6);
    w8(&m, 'N'), w16(&m, 3), wval(&m, "8", 1), wval(&m, "old", 3), w8(&m, 'u');
    same_line(&m);
    /* Value to NULL and NULL to value. */
    m.n = 0;
    w8(&m, 'U'), w32(&m, 16384), w8(&m, 'O'), w16(&m, 3);
    wval(&m, "7", 1), w8(&m, 'n'), wval(&m, "x", 1);
    w8(&m, 'N'), w16(&m, 3), wval(&m, "7", 1), wval(&m, "", 0), w8(&m, 'n');
    same_line(&m);
    /* No old row. */
    m.n = 0;
    w8(&m, 'U'), w32(&m, 16384), w8(&m, 'N'), w16(&m, 3);
    wval(&m, "7", 1), wval(&m, "n", 1), w8(&m, 'u');
    same_line(&m);
    /* Key only. */
    m.n = 0;
    w8(&m, 'U'), w32(&m, 16384), w8(&m, 'K'), w16(&m, 3);
    wval(&m, "5", 1), w8(&m, 'n'), w8(&m, 'n');
    w8(&m, 'N'), w16(&m, 3), wval(&m, "6", 1), wval(&m, "n", 1), wval(&m, "d", 1);
    same_line(&m);
}

TEST(source_change_delete_line_as_before_the_seam)
{
    mbuf m = {.n = 0};
    w8(&m, 'D'), w32(&m, 16384), w8(&m, 'O'), w16(&m, 3);
    wval(&m, "9", 1), wval(&m, "gone", 4), w8(&m, 'n');
    same_line(&m);
    m.n = 0;
    w8(&m, 'D'), w32(&m, 16384), w8(&m, 'K'), w16(&m, 3);
    wval(&m, "9", 1), w8(&m, 'n'), w8(&m, 'n');
    same_line(&m);
}

TEST(source_change_refuses_tuples_not_of_the_relation)
{
    mbuf m = {.n = 0};
    w8(&m, 'I'), w32(&m, 16384), w8(&m, 'N'), w16(&m, 2), wval(&m, "7", 1), w8(&m, 'n');
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    CHECK(!both_lines(&m, &a, &b));
    CHECK(b.len == 0); /* the neutral path refused it too */
    strbuf_free(&a);
    strbuf_free(&b);
}
